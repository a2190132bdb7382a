import type { OutboxAdmin } from "../admin/admin.ts";
import type { QueueSet } from "../queues/index.ts";
import type { Database } from "../sql/index.ts";

/** What the plugin's route groups share: the service's pool and queues (which carry its catalog), and the admin operations on them. */
export interface AdminContext {
  db: Database;
  queues: QueueSet;
  admin: Omit<OutboxAdmin, "close">;
}
