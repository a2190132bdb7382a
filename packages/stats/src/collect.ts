import type { QueueSet } from "@outbox/queues";
import type { Queryable } from "@outbox/sql";
import { collectOutboxFigures, type OutboxCounts } from "./outbox-counts.ts";

export interface QueueCounts {
  /** Ready to run: BullMQ's `wait` plus `prioritized` (every event job carries a priority). */
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface OutboxStats {
  outbox: OutboxCounts;
  /** Whether processed/skipped are estimates (always, by design). */
  outboxEstimated: { processed: true; skipped: true };
  lagMs: number;
  queues: Record<string, QueueCounts>;
  /** Dead events, from Postgres (the DLQ outlives Redis). */
  dlqSize: number;
  heldAggregates: number;
  /** Pending rows the relay has not read yet: rows waiting for the relay, not for a handler. */
  relayBacklog: number;
}

/** The stats line: the snapshot plus the worker's own counts since the previous line. */
export interface StatsLine extends OutboxStats {
  handledSinceLast: number;
  failedSinceLast: number;
  deadSinceLast: number;
}

/** Per-queue counts by state: one Redis round trip per queue (sorted-set and list lengths). */
export async function collectQueueCounts(queues: Pick<QueueSet, "all">): Promise<Record<string, QueueCounts>> {
  const entries = await Promise.all(
    queues.all().map(async (queue) => {
      const counts = await queue.getJobCounts("wait", "prioritized", "active", "delayed", "failed");
      const waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0);
      return [queue.name, { waiting, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * The figures on-call reads: outbox counts by status, lag, per-queue counts, DLQ size and held
 * aggregates. Cheap on a table of millions of rows: exact counts only through the partial indexes
 * of the small states, estimates for the finished bulk (see outbox-counts.ts).
 */
export async function collectStats(db: Queryable, queues: Pick<QueueSet, "all">): Promise<OutboxStats> {
  const [figures, queueCounts] = await Promise.all([collectOutboxFigures(db), collectQueueCounts(queues)]);
  return {
    outbox: figures.counts,
    outboxEstimated: { processed: true, skipped: true },
    lagMs: figures.lagMs,
    queues: queueCounts,
    dlqSize: figures.counts.dead,
    heldAggregates: figures.heldAggregates,
    relayBacklog: figures.relayBacklog,
  };
}
