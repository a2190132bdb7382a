import { eventColumns, heldBehindEarlier, type OutboxEvent } from "../outbox/index.ts";
import { planEachRun, sql, type Queryable } from "../sql/index.ts";

/**
 * Where the relay stands: every pending row at or before (transactionId, sequence) has been read,
 * except rows of the `watched` transactions, which were still open when the position passed them.
 * Ids are xid8 values as text.
 */
export interface RelayCursor {
  transactionId: string;
  sequence: string;
  watched: string[];
  /** The transactions open in the snapshot of the read. */
  open: string[];
}

export interface RelayedRow extends OutboxEvent {
  transaction_id: string;
  sequence: string;
  /** An earlier event of its aggregate is unfinished: it waits, and is queued when that one finishes. */
  held: boolean;
  /** Read from a watched transaction that has committed since, not forward from the position. */
  late: boolean;
}

interface StepRow extends RelayedRow {
  cursor_transaction_id: string;
  cursor_sequence: string;
  cursor_watched: string[];
  open: string[];
}

/**
 * readRelayStep: in one statement (so in one snapshot), locks the relay's cursor row until this
 * transaction ends, and reads the pending rows committed after its position, in commit order, at
 * most `limit`, with the pending rows of watched transactions that have committed since (a row of
 * a transaction still open is invisible here), and the transactions open in this snapshot.
 * - SKIP LOCKED: while another process relays, this one gets no row and leaves the work to it
 *   (that relay heard the same NOTIFY and runs again).
 * - The position comes in as an InitPlan parameter, so the read is a range of
 *   event_outbox_relay_idx starting at it: no row before it is walked again, however long the
 *   backlog or the table. Plain reads of event_outbox, no row locks.
 * Returns undefined when another relay holds the cursor.
 */
export async function readRelayStep(
  tx: Queryable,
  name: string,
  limit: number,
): Promise<{ cursor: RelayCursor; rows: RelayedRow[] } | undefined> {
  const columns = sql`${eventColumns}, o.transaction_id::text AS transaction_id, o.sequence::text AS sequence, ${heldBehindEarlier} AS held`;
  const rows = await tx.query<StepRow>(planEachRun(sql`
    WITH cursor AS (
      SELECT transaction_id, sequence, watched FROM outbox_relay_cursor WHERE name = ${name} FOR UPDATE SKIP LOCKED
    ), forward AS (
      SELECT ${columns}, false AS late FROM event_outbox o
      WHERE o.status = 'pending' AND (o.transaction_id, o.sequence) > (SELECT transaction_id, sequence FROM cursor)
      ORDER BY o.transaction_id, o.sequence
      LIMIT ${limit}
    ), late AS (
      SELECT ${columns}, true AS late FROM event_outbox o
      WHERE o.status = 'pending' AND o.transaction_id = ANY((SELECT watched FROM cursor)::xid8[])
      ORDER BY o.transaction_id, o.sequence
      LIMIT ${limit}
    )
    SELECT c.transaction_id::text AS cursor_transaction_id, c.sequence::text AS cursor_sequence,
      c.watched::text[] AS cursor_watched, ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS open, r.*
    FROM cursor c LEFT JOIN (SELECT * FROM forward UNION ALL SELECT * FROM late) r ON true`));
  const [first] = rows;
  if (!first) return undefined;
  const cursor = { transactionId: first.cursor_transaction_id, sequence: first.cursor_sequence, watched: first.cursor_watched, open: first.open };
  return { cursor, rows: first.id === null ? [] : rows };
}

/** moveCursor: the new position and watch list, committed with the transaction that queued the jobs. */
export async function moveCursor(tx: Queryable, name: string, position: { transactionId: string; sequence: string }, watched: string[]): Promise<void> {
  await tx.execute(sql`
    UPDATE outbox_relay_cursor
    SET transaction_id = ${position.transactionId}::xid8, sequence = ${position.sequence}::bigint,
        watched = ${watched}::xid8[], updated_at = now()
    WHERE name = ${name}`);
}
