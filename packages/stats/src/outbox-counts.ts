import { unorderedEventTypes } from "@outbox/events";
import { sql, type Queryable } from "@outbox/sql";
import { passedByRelay } from "@outbox/outbox";
import { isDispatched, relayCursorName } from "./relay-position.ts";

export interface OutboxCounts {
  /** Exact: pending rows the relay has not passed yet, or held behind an earlier event of their aggregate. */
  pending: number;
  /** Exact: pending rows the relay has passed that are not held (their jobs are in Redis). */
  dispatched: number;
  dead: number;
  /** Estimates (see estimateFinished): never an exact count of the table's bulk. */
  processed: number;
  skipped: number;
}

export interface OutboxFigures {
  counts: OutboxCounts;
  /** Age of the oldest pending event that is due, in ms; 0 when none waits. */
  lagMs: number;
  /** Distinct aggregates with a dead event that hold back later pending events. */
  heldAggregates: number;
  /** Pending rows the relay has not read yet (committed after its position, or in a transaction it watches). */
  relayBacklog: number;
}

interface OpenRow {
  open: number;
  unread: number;
  dispatched: number;
  dead: number;
  lag_ms: number | null;
}

interface EstimateRow {
  table_rows: number | null;
  processed_share: number | null;
  skipped_share: number | null;
}

/**
 * countOpen: exact counts of the small states and the lag, in one round trip. `open` (every
 * pending row), `unread` (those the relay has not passed) and the lag read event_outbox_relay_idx
 * (pending rows only), `dispatched` the part of it up to the relay's position (a range of the same index, each row probing
 * event_outbox_aggregate_open_idx for a hold), `dead` event_outbox_dead_idx: their size follows
 * the backlog, not the table. Plain MVCC reads, no locks (the relay's cursor row included).
 */
async function countOpen(db: Queryable): Promise<OpenRow> {
  const [row] = await db.query<OpenRow>(sql`
    SELECT
      (SELECT count(*)::int FROM event_outbox WHERE status = 'pending') AS open,
      (SELECT count(*)::int FROM outbox_relay_cursor c, event_outbox o
       WHERE c.name = ${relayCursorName} AND o.status = 'pending' AND NOT ${passedByRelay}) AS unread,
      (SELECT count(*)::int FROM outbox_relay_cursor c, event_outbox o
       WHERE c.name = ${relayCursorName} AND ${isDispatched()}) AS dispatched,
      (SELECT count(*)::int FROM event_outbox WHERE status = 'dead') AS dead,
      (SELECT (extract(epoch FROM now() - min(available_at)) * 1000)::float8
         FROM event_outbox WHERE status = 'pending' AND available_at <= now()) AS lag_ms`);
  return row!;
}

/**
 * estimateFinished: processed and skipped rows are the bulk of the table (millions), so they are
 * never counted. The table's row count comes from the planner's statistics the way the planner
 * itself reads them: pg_class.reltuples scaled by the relation's current size in pages (so it
 * follows growth between ANALYZE runs); before the first ANALYZE, pg_stat_user_tables.n_live_tup.
 * Finished = that estimate minus the exact open counts. It is split between processed and skipped
 * by the status column's most-common-value frequencies from pg_stats (skipped rows are rare;
 * without statistics every finished row counts as processed). Catalog reads only, no table scan.
 */
async function estimateFinished(db: Queryable): Promise<EstimateRow> {
  const [row] = await db.query<EstimateRow>(sql`
    SELECT
      (SELECT CASE
         WHEN c.reltuples >= 0 AND c.relpages > 0
           THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)
         WHEN c.reltuples >= 0 THEN c.reltuples
         ELSE (SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = c.oid)
       END::float8
       FROM pg_class c WHERE c.oid = 'event_outbox'::regclass) AS table_rows,
      (SELECT freq FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS m(val, freq)
       WHERE s.tablename = 'event_outbox' AND s.attname = 'status' AND s.schemaname = current_schema() AND m.val = 'processed')::float8
       AS processed_share,
      (SELECT freq FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS m(val, freq)
       WHERE s.tablename = 'event_outbox' AND s.attname = 'status' AND s.schemaname = current_schema() AND m.val = 'skipped')::float8
       AS skipped_share`);
  return row!;
}

/**
 * countHeldAggregates: aggregates whose dead event holds back a later pending event (the relay
 * and the release of a finished event leave an ordered event alone while an earlier one of its
 * aggregate is dead). Starts from the dead rows (event_outbox_dead_idx) and probes
 * event_outbox_aggregate_open_idx for each; unordered types are never held. Plain reads, no locks.
 */
async function countHeldAggregates(db: Queryable): Promise<number> {
  const [row] = await db.query<{ held: number }>(sql`
    SELECT count(DISTINCT (d.aggregate_type, d.aggregate_id))::int AS held
    FROM event_outbox d
    WHERE d.status = 'dead' AND EXISTS (
      SELECT 1 FROM event_outbox later
      WHERE later.aggregate_type = d.aggregate_type AND later.aggregate_id = d.aggregate_id
        AND later.status = 'pending' AND later.sequence > d.sequence
        AND NOT (later.event_type = ANY(${unorderedEventTypes}::text[])))`);
  return row?.held ?? 0;
}

export async function collectOutboxFigures(db: Queryable): Promise<OutboxFigures> {
  const [open, estimate, heldAggregates] = await Promise.all([countOpen(db), estimateFinished(db), countHeldAggregates(db)]);
  const finished = Math.max(0, Math.round((estimate.table_rows ?? 0) - open.open - open.dead));
  const processedShare = estimate.processed_share ?? 0;
  const skippedShare = estimate.skipped_share ?? 0;
  const skipped = processedShare + skippedShare > 0 ? Math.round((finished * skippedShare) / (processedShare + skippedShare)) : 0;
  return {
    counts: { pending: open.open - open.dispatched, dispatched: open.dispatched, dead: open.dead, processed: finished - skipped, skipped },
    lagMs: Math.max(0, Math.round(open.lag_ms ?? 0)),
    heldAggregates,
    relayBacklog: open.unread,
  };
}
