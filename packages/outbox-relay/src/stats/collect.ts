import type { QueueSet } from "../queues/index.ts";
import type { Queryable } from "../sql/index.ts";
import { collectOutboxFigures, type EstimatedFigure, type OutboxCounts, type OutboxFiguresOptions } from "./outbox-counts.ts";
import { countUnknownTypes } from "./unknown-types.ts";

export interface QueueCounts {
  /** Ready to run: BullMQ's `wait` plus `prioritized` (every event job carries a priority). */
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface OutboxStats {
  /** Outbox rows by status, as on-call reads them (a pending row the relay has passed is `dispatched`). */
  outbox: OutboxCounts;
  /**
   * The figures that are estimates: a status with `exactCountLimit` (100,000) rows or more is
   * estimated from the planner's statistics (and the figures read from its rows with it). Empty
   * when every figure is exact.
   */
  estimated: EstimatedFigure[];
  /** Age of the oldest pending event free to run: not held behind an earlier unfinished event of its aggregate, due. */
  lagMs: number;
  /** Pending events held behind an earlier unfinished (pending or dead) event of their aggregate; not in the lag. */
  heldEvents: number;
  /** Aggregates whose dead event holds back later events (until an admin retries or skips it). */
  heldAggregates: number;
  queues: Record<string, QueueCounts>;
  /** Dead events, from Postgres (the DLQ outlives Redis). */
  dlqSize: number;
  /** Pending rows the relay has not read yet: rows waiting for the relay, not for a handler. */
  relayBacklog: number;
  /**
   * Pending events whose type this process's catalog does not know, by type (among the oldest
   * 100,000 pending rows): they wait for a worker that knows it. Also in `pending`/`dispatched`.
   */
  unknownTypes: Record<string, number>;
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
 * The figures on-call reads: outbox counts by status, lag, held events and aggregates, per-queue
 * counts, DLQ size. Cheap on a table of millions of rows: every read is bounded (see
 * outbox-counts.ts), exact below 100,000 rows per status, estimated above and marked so.
 */
export async function collectStats(
  db: Queryable,
  queues: Pick<QueueSet, "all" | "catalog">,
  options: OutboxFiguresOptions = {},
): Promise<OutboxStats> {
  const figures = collectOutboxFigures(db, options);
  const unknownTypes = countUnknownTypes(db, queues.catalog.types, options.exactBelow);
  const [outbox, queueCounts, unknown] = await Promise.all([figures, collectQueueCounts(queues), unknownTypes]);
  return {
    outbox: outbox.counts,
    estimated: outbox.estimated,
    lagMs: outbox.lagMs,
    heldEvents: outbox.heldEvents,
    heldAggregates: outbox.heldAggregates,
    queues: queueCounts,
    dlqSize: outbox.counts.dead,
    relayBacklog: outbox.relayBacklog,
    unknownTypes: unknown,
  };
}
