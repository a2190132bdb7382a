import { raw, type Statement } from "../sql/index.ts";

/** The relay's cursor row in outbox_relay_cursor (one relay per database today). */
export const defaultRelayCursor = "default";

/**
 * passedByRelay: the row `o` is at or before the position of the cursor `c` and not in a
 * transaction the cursor still watches: the relay has read it (queued its job, or held it).
 * Needs `event_outbox o` and `outbox_relay_cursor c` in scope; a range of event_outbox_relay_idx.
 */
export const passedByRelay: Statement = raw(
  "((o.transaction_id, o.sequence) <= (c.transaction_id, c.sequence) AND NOT (o.transaction_id = ANY(c.watched)))",
);
