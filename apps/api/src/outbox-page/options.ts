import type { Env } from "@outbox/config";
import type { QueueSet } from "@outbox/queues";
import type { Database } from "@outbox/sql";
import type { AdminCredentials } from "../auth/admin-credentials.ts";

export interface OutboxPageOptions {
  config: Env;
  db: Database;
  queues: QueueSet;
  admin: AdminCredentials;
}
