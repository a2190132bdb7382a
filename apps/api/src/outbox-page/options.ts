import type { Env } from "@outbox/config";
import type { QueueSet } from "@outbox/queues";
import type { Database } from "@outbox/sql";

export interface OutboxPageOptions {
  config: Env;
  db: Database;
  queues: QueueSet;
}
