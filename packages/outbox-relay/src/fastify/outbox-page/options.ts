import type { Env } from "@outbox/config";
import type { QueueSet } from "outbox-relay/queues";
import type { Database } from "outbox-relay/sql";

export interface OutboxPageOptions {
  config: Env;
  db: Database;
  queues: QueueSet;
}
