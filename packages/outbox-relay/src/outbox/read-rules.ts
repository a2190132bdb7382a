import { raw, sql, type Statement } from "../sql/index.ts";

// The outbox's read rules: the states every reader derives from rows (relayed, held, dispatched,
// holding), written once here as SQL over table aliases, as state-machine.ts writes the
// transitions once. The relay, the rescuer, the release of held events, stats, the outbox page and
// the admin tools read through them. A row's `ordered` (written at publish from its type's policy)
// says whether it takes part in its aggregate's order: an unordered row neither waits nor holds.

/** The relay's cursor row in outbox_relay_cursor (one relay per database today). */
export const defaultRelayCursor = "default";

const sameAggregate = (row: string, of: string) =>
  `${row}.aggregate_type = ${of}.aggregate_type AND ${row}.aggregate_id = ${of}.aggregate_id`;

/**
 * openOrderedOf: `row` is an unfinished (pending, or dead until an admin retries or skips it)
 * ordered event of the aggregate of `of` (a row, or any relation with aggregate_type and
 * aggregate_id): the events an aggregate's order waits on. Served by event_outbox_aggregate_open_idx.
 */
export function openOrderedOf(row: string, of: string): Statement {
  return raw(`(${sameAggregate(row, of)} AND ${row}.status IN ('pending', 'dead') AND ${row}.ordered)`);
}

/**
 * passedByRelay: the row `o` is at or before the position of the cursor `c` and not in a
 * transaction the cursor still watches: the relay has read it (queued its job, or held it).
 * Needs `event_outbox o` and `outbox_relay_cursor c` in scope; a range of event_outbox_relay_idx.
 */
export const passedByRelay: Statement = raw(
  "((o.transaction_id, o.sequence) <= (c.transaction_id, c.sequence) AND NOT (o.transaction_id = ANY(c.watched)))",
);

/**
 * heldBehindEarlier: the row `o` must wait: it is ordered and an earlier open ordered event of its
 * aggregate exists. One probe of event_outbox_aggregate_open_idx.
 */
export const heldBehindEarlier: Statement = sql`(o.ordered AND EXISTS (
  SELECT 1 FROM event_outbox earlier WHERE ${openOrderedOf("earlier", "o")} AND earlier.sequence < o.sequence))`;

/**
 * isDispatched: the row `o` is pending, the relay `c` has passed it and it is not held: its job is
 * in Redis, so on-call reads it as `dispatched`. A held row stays `pending` (its job is queued when
 * the earlier event finishes), as does a row the relay has not read yet. Needs `event_outbox o` and
 * `outbox_relay_cursor c` in scope.
 */
export const isDispatched: Statement = sql`(o.status = 'pending' AND ${passedByRelay} AND NOT ${heldBehindEarlier})`;

/**
 * heldByDead: `later` is a pending ordered event after the dead row `d` in its aggregate: one that `d`
 * holds back.
 */
export const heldByDead: Statement = raw(
  `(${sameAggregate("later", "d")} AND later.status = 'pending' AND later.sequence > d.sequence AND later.ordered)`,
);

/** holdsLater: the row `d` is a dead ordered event that holds back at least one later event of its aggregate. */
export const holdsLater: Statement = sql`(d.status = 'dead' AND d.ordered AND EXISTS (SELECT 1 FROM event_outbox later WHERE ${heldByDead}))`;
