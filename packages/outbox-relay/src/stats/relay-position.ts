import { defaultRelayCursor, heldBehindEarlier, passedByRelay } from "../outbox/index.ts";
import { sql, type Statement } from "../sql/index.ts";

/** The relay's cursor row (the scanner's default). */
export const relayCursorName = defaultRelayCursor;

/**
 * isDispatched: true when the row `o` is pending, the relay `c` has passed it (at or before the
 * cursor's position, and not in a transaction the cursor still watches) and it is not held behind
 * an earlier unfinished event of its aggregate: its job is in Redis, so on-call reads it as
 * `dispatched`. A held row stays `pending` (its job is queued when the earlier event finishes), as
 * does a row the relay has not read yet. Needs `event_outbox o` and `outbox_relay_cursor c` in
 * scope; the position test is a range of event_outbox_relay_idx, the hold a probe of
 * event_outbox_aggregate_open_idx.
 */
export function isDispatched(unorderedTypes: readonly string[]): Statement {
  return sql`(o.status = 'pending' AND ${passedByRelay} AND NOT ${heldBehindEarlier(unorderedTypes)})`;
}
