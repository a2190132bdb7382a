import { holdsLater } from "../outbox/index.ts";
import { sql, type Database, type Queryable } from "../sql/index.ts";
import { countAhead, readPendingPass } from "./pending-pass.ts";
import { estimateStatuses, type StatusEstimates } from "./status-estimates.ts";

/** Below this many rows a status is counted exactly; from it on, the figure is an estimate. */
export const exactCountLimit = 100_000;

/** A planner estimate this many times the limit skips the bounded count (it would reach the limit anyway). */
const clearlyOverFactor = 10;

export interface OutboxCounts {
  /** Pending rows the relay has not passed yet, or held behind an earlier unfinished event of their aggregate. */
  pending: number;
  /** Pending rows the relay has passed that are not held (their jobs are in Redis). */
  dispatched: number;
  dead: number;
  processed: number;
  skipped: number;
}

/** A figure that can be an estimate. */
export type EstimatedFigure = keyof OutboxCounts | "heldEvents" | "heldAggregates" | "relayBacklog";

export interface OutboxFigures {
  counts: OutboxCounts;
  /** The figures that are estimates (their status holds `exactCountLimit` rows or more); every other one is exact. */
  estimated: EstimatedFigure[];
  /** Age of the oldest pending event free to run (not held, due), in ms; 0 when none waits. */
  lagMs: number;
  /** Pending events held behind an earlier unfinished (pending or dead) event of their aggregate. */
  heldEvents: number;
  /** Distinct aggregates with a dead event that hold back later pending events. */
  heldAggregates: number;
  /** Pending rows the relay has not read yet (committed after its position, or in a transaction it watches). */
  relayBacklog: number;
}

export interface OutboxFiguresOptions {
  /** exactCountLimit, smaller in tests. */
  exactBelow?: number;
}

type FinishedStatus = "processed" | "skipped" | "dead";

/**
 * countFinished: rows of a status, counted up to `limit` (a count that reaches it means "at least
 * that many"). Each reads its partial index: event_outbox_processed_type_idx (or a plain scan that
 * stops at the limit: processed rows are most of the table), event_outbox_skipped_idx,
 * event_outbox_dead_idx; a status whose estimate is far over the limit is not counted (null).
 */
async function countFinished(db: Queryable, limit: number, skip: Record<FinishedStatus, boolean>): Promise<Record<FinishedStatus, number | null>> {
  const [row] = await db.query<Record<FinishedStatus, number | null>>(sql`
    SELECT
      CASE WHEN ${skip.processed} THEN NULL ELSE (SELECT count(*) FROM (SELECT 1 FROM event_outbox WHERE status = 'processed' LIMIT ${limit}) s)::int END AS processed,
      CASE WHEN ${skip.skipped} THEN NULL ELSE (SELECT count(*) FROM (SELECT 1 FROM event_outbox WHERE status = 'skipped' LIMIT ${limit}) s)::int END AS skipped,
      CASE WHEN ${skip.dead} THEN NULL ELSE (SELECT count(*) FROM (SELECT 1 FROM event_outbox WHERE status = 'dead' LIMIT ${limit}) s)::int END AS dead`);
  return row!;
}

/**
 * countHeldAggregates: aggregates whose dead event holds back a later pending event (the relay
 * and the release of a finished event leave an ordered event alone while an earlier one of its
 * aggregate is dead). Starts from at most `limit` dead rows (event_outbox_dead_idx) and probes
 * event_outbox_aggregate_open_idx for each; unordered types neither hold nor are held. Plain reads, no locks.
 */
async function countHeldAggregates(db: Queryable, limit: number): Promise<number> {
  const [row] = await db.query<{ held: number }>(sql`
    SELECT count(DISTINCT (d.aggregate_type, d.aggregate_id))::int AS held
    FROM (SELECT aggregate_type, aggregate_id, sequence, status, ordered FROM event_outbox
          WHERE status = 'dead' AND ordered LIMIT ${limit}) d
    WHERE ${holdsLater}`);
  return row?.held ?? 0;
}

/**
 * A status' estimate once its count reached the limit, never below the limit: `processed`, the
 * bulk of the table, is the table's estimated rows less every other status' figure (so it follows
 * the table's growth between ANALYZE runs); any other status is its share of the table's rows.
 */
function overLimit(status: string, estimates: StatusEstimates, limit: number, others: number): number {
  const planned = status === "processed" ? estimates.tableRows - others : (estimates.byStatus[status] ?? 0);
  return Math.max(limit, Math.round(planned));
}

/**
 * The outbox figures, exact while a status holds fewer than `exactBelow` rows, estimates above
 * (listed in `estimated`), so that every read is bounded on a table of millions: each status is
 * counted through its partial index up to the limit, and the planner's statistics stand in past it.
 * Pending rows are read once, oldest first (at most the limit): passed by the relay and not held
 * is `dispatched`, the rest `pending`; the held ones are `heldEvents`; the oldest one free to run
 * gives the lag. Every statement runs in one snapshot (the figures add up), without JIT (its
 * compilation cost more than these statements on a large backlog).
 */
export async function collectOutboxFigures(db: Database | Queryable, options: OutboxFiguresOptions = {}): Promise<OutboxFigures> {
  if (!("transaction" in db)) return readFigures(db, options);
  return db.transaction(
    async (tx) => {
      await tx.run("SET LOCAL jit = off");
      return readFigures(tx, options);
    },
    { isolation: "repeatable read" },
  );
}

async function readFigures(db: Queryable, { exactBelow = exactCountLimit }: OutboxFiguresOptions): Promise<OutboxFigures> {
  const estimates = await estimateStatuses(db);
  const clearlyOver = (status: FinishedStatus) => (estimates.byStatus[status] ?? 0) >= exactBelow * clearlyOverFactor;
  const finished = await countFinished(db, exactBelow, { processed: clearlyOver("processed"), skipped: clearlyOver("skipped"), dead: clearlyOver("dead") });
  const pass = await readPendingPass(db, exactBelow);
  const heldAggregates = await countHeldAggregates(db, exactBelow);
  const estimated: EstimatedFigure[] = [];

  let { dispatched } = pass;
  let pending = pass.read - pass.dispatched;
  // Rows the relay has not passed: all in the pass when it read every pending row, else counted from the cursor.
  const relayBacklog = pass.capped ? await countAhead(db, exactBelow) : pass.read - pass.passed;
  if (relayBacklog >= exactBelow) estimated.push("relayBacklog");
  if (pass.capped) {
    // The pass read the oldest `exactBelow` pending rows. The relay's passed rows come first in
    // commit order: when the pass also read rows it has not passed, every passed row was read and
    // `dispatched` is exact; otherwise the rows ahead of the relay are counted from its cursor.
    const total = overLimit("pending", estimates, exactBelow, 0);
    if (pass.passed === pass.read) {
      dispatched = Math.max(0, total - relayBacklog - pass.held);
      estimated.push("pending", "dispatched");
    } else estimated.push("pending");
    pending = Math.max(0, total - dispatched);
    estimated.push("heldEvents");
  }

  const exactOrNull = (status: FinishedStatus) => {
    const count = finished[status];
    return count !== null && count < exactBelow ? count : null;
  };
  const counts: OutboxCounts = { pending, dispatched, dead: 0, processed: 0, skipped: 0 };
  const known = () => counts.pending + counts.dispatched + counts.dead + counts.processed + counts.skipped;
  for (const status of ["dead", "skipped", "processed"] as const) {
    const exact = exactOrNull(status);
    if (exact !== null) counts[status] = exact;
  }
  for (const status of ["dead", "skipped", "processed"] as const) {
    if (exactOrNull(status) !== null) continue;
    counts[status] = overLimit(status, estimates, exactBelow, known());
    estimated.push(status);
  }
  if (counts.dead >= exactBelow) estimated.push("heldAggregates");

  return { counts, estimated, lagMs: pass.lagMs, heldEvents: pass.held, heldAggregates, relayBacklog };
}
