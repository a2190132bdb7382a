import { defaultRelayCursor, heldBehindEarlier, passedByRelay } from "../outbox/index.ts";
import { planEachRun, sql, type Queryable } from "../sql/index.ts";

export interface PendingPass {
  /** Pending rows read: all of them, or the oldest `limit` in commit order. */
  read: number;
  /** Whether the pass stopped at `limit` (there may be more pending rows). */
  capped: boolean;
  /** Read rows the relay has passed (a prefix of the commit order, but for the transactions it watches). */
  passed: number;
  /** Read rows the relay has passed that are not held: their jobs are in Redis. */
  dispatched: number;
  /** Read rows held behind an earlier unfinished (pending or dead) event of their aggregate. */
  held: number;
  /** Age of the oldest read row free to run (not held, due), in ms; 0 when none. */
  lagMs: number;
}

interface PassRow {
  read: number;
  passed: number;
  dispatched: number;
  held: number;
  lag_ms: number | null;
}

/**
 * readPendingPass: one pass over the pending rows in commit order, at most `limit` of them (the
 * oldest), each classified: passed by the relay or not (a range test against the cursor), held or
 * not (one probe of event_outbox_aggregate_open_idx), and the lag: the oldest available_at among
 * the rows free to run (not held, due). Reads event_outbox_relay_idx in order, so its cost is
 * bounded by `limit` whatever the backlog. Plain reads, no locks.
 */
export async function readPendingPass(db: Queryable, limit: number): Promise<PendingPass> {
  const [row] = await db.query<PassRow>(planEachRun(sql`
    SELECT count(*)::int AS read,
      count(*) FILTER (WHERE passed)::int AS passed,
      count(*) FILTER (WHERE passed AND NOT held)::int AS dispatched,
      count(*) FILTER (WHERE held)::int AS held,
      (extract(epoch FROM now() - min(available_at) FILTER (WHERE NOT held AND available_at <= now())) * 1000)::float8 AS lag_ms
    FROM (
      SELECT o.available_at, coalesce(${passedByRelay}, false) AS passed, ${heldBehindEarlier} AS held
      FROM (
        SELECT transaction_id, sequence, available_at, aggregate_type, aggregate_id, ordered
        FROM event_outbox WHERE status = 'pending'
        ORDER BY transaction_id, sequence LIMIT ${limit}
      ) o
      LEFT JOIN outbox_relay_cursor c ON c.name = ${defaultRelayCursor}
    ) classified`));
  const read = row?.read ?? 0;
  return { read, capped: read >= limit, passed: row?.passed ?? 0, dispatched: row?.dispatched ?? 0, held: row?.held ?? 0, lagMs: Math.max(0, Math.round(row?.lag_ms ?? 0)) };
}

/**
 * countAhead: pending rows the relay has not passed yet (after its position, or in a transaction
 * it still watches), at most `limit`: a range of event_outbox_relay_idx from the cursor on, no
 * probes. Used when the backlog is too large for readPendingPass to read whole.
 */
export async function countAhead(db: Queryable, limit: number): Promise<number> {
  const [row] = await db.query<{ ahead: number }>(sql`
    WITH c AS (
      SELECT coalesce((SELECT transaction_id FROM outbox_relay_cursor WHERE name = ${defaultRelayCursor}), '0'::xid8) AS transaction_id,
             coalesce((SELECT sequence FROM outbox_relay_cursor WHERE name = ${defaultRelayCursor}), 0) AS sequence,
             coalesce((SELECT watched FROM outbox_relay_cursor WHERE name = ${defaultRelayCursor}), '{}'::xid8[]) AS watched
    )
    SELECT
      (SELECT count(*) FROM (
         SELECT 1 FROM event_outbox o, c
         WHERE o.status = 'pending' AND (o.transaction_id, o.sequence) > (c.transaction_id, c.sequence) LIMIT ${limit}) later)::int
      + (SELECT count(*) FROM event_outbox o, c
         WHERE o.status = 'pending' AND o.transaction_id = ANY(c.watched) AND (o.transaction_id, o.sequence) <= (c.transaction_id, c.sequence))::int
      AS ahead`);
  return Math.min(limit, row?.ahead ?? 0);
}
