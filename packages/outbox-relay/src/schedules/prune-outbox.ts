import { pruneFinished } from "../outbox/index.ts";
import type { Queryable } from "../sql/index.ts";
import type { Schedule } from "./start.ts";

export interface PruneOutboxOptions {
  /** Rows deleted per statement. */
  batchSize?: number;
  /** Statements per run; whatever is left waits for the next tick. */
  maxBatches?: number;
}

/**
 * pruneOutbox: deletes finished outbox rows (`processed` or `skipped`) that finished before
 * `olderThan`, oldest first, one small statement at a time so no lock is held for long and
 * replication and vacuum keep up. Pending and dead rows are never touched.
 *
 * There is no inbox: an event's `processed` mark is its exactly-once record. A job can outlive its
 * outbox row in Redis (a late retry, a job restored with a Redis snapshot); when it runs, it finds
 * no row to mark (only pending or dead rows are marked) and does nothing, so pruning a finished
 * row cannot make its effects happen twice. Returns the number of outbox rows deleted.
 */
export async function pruneOutbox(
  db: Queryable,
  olderThan: Date,
  { batchSize = 1000, maxBatches = 1000 }: PruneOutboxOptions = {},
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    // Its own autocommit transaction; a row another session holds is left for the next batch.
    const count = await pruneFinished(db, olderThan, batchSize);
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}

/**
 * The retention schedule: every tick deletes finished rows older than `olderThanMs` (pruneOutbox).
 * Its name, `outbox-retention`, is its scheduler id in Redis.
 */
export function outboxRetention({ pattern, olderThanMs }: { pattern: string; olderThanMs: number }): Schedule {
  return {
    name: "outbox-retention",
    repeat: { pattern, tz: "UTC" },
    run: async ({ db }) => {
      const olderThan = new Date(Date.now() - olderThanMs);
      return { deleted: await pruneOutbox(db, olderThan), olderThan: olderThan.toISOString() };
    },
  };
}
