import { eventColumns, heldBehindEarlier, type OutboxEvent } from "@outbox/outbox";
import { sql, type Queryable } from "@outbox/sql";

/**
 * Where the relay stands: every pending row at or before (transactionId, sequence) has been read,
 * except rows of the `watched` transactions, which were still open when the position passed them.
 * Ids are xid8 values as text.
 */
export interface RelayCursor {
  transactionId: string;
  sequence: string;
  watched: string[];
  /** The transactions open in this transaction's snapshot. */
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

/**
 * lockCursor: the relay's position, locked until this transaction ends. SKIP LOCKED: while another
 * process relays, this one gets no row and leaves the work to it (that relay heard the same NOTIFY
 * and runs again). Runs first in a REPEATABLE READ transaction, so the snapshot whose open
 * transactions it returns is the one the reads below use.
 */
export async function lockCursor(tx: Queryable, name: string): Promise<RelayCursor | undefined> {
  const [cursor] = await tx.query<RelayCursor>(sql`
    SELECT transaction_id::text AS "transactionId", sequence::text AS sequence, watched::text[] AS watched,
      ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS open
    FROM outbox_relay_cursor WHERE name = ${name}
    FOR UPDATE SKIP LOCKED`);
  return cursor;
}

/**
 * readAfterCursor: the pending rows committed after the position, in commit order, at most
 * `limit`; and the pending rows of watched transactions that have committed since (a row of a
 * transaction still open is invisible here). Reads event_outbox_relay_idx from the position: no
 * row before it is walked again, however long the backlog or the table. Plain reads, no row locks.
 */
export async function readAfterCursor(tx: Queryable, cursor: RelayCursor, limit: number, unorderedTypes: readonly string[]): Promise<RelayedRow[]> {
  const held = heldBehindEarlier(unorderedTypes);
  const columns = sql`${eventColumns}, o.transaction_id::text AS transaction_id, o.sequence::text AS sequence, ${held} AS held`;
  const late =
    cursor.watched.length === 0
      ? sql``
      : sql`
        UNION ALL
        (SELECT ${columns}, true AS late FROM event_outbox o
         WHERE o.status = 'pending' AND o.transaction_id = ANY(${cursor.watched}::xid8[])
         ORDER BY o.transaction_id, o.sequence
         LIMIT ${limit})`;
  return tx.query<RelayedRow>(sql`
    (SELECT ${columns}, false AS late FROM event_outbox o
     WHERE o.status = 'pending' AND (o.transaction_id, o.sequence) > (${cursor.transactionId}::xid8, ${cursor.sequence}::bigint)
     ORDER BY o.transaction_id, o.sequence
     LIMIT ${limit})
    ${late}`);
}

/** moveCursor: the new position and watch list, committed with the transaction that queued the jobs. */
export async function moveCursor(tx: Queryable, name: string, position: { transactionId: string; sequence: string }, watched: string[]): Promise<void> {
  await tx.execute(sql`
    UPDATE outbox_relay_cursor
    SET transaction_id = ${position.transactionId}::xid8, sequence = ${position.sequence}::bigint,
        watched = ${watched}::xid8[], updated_at = now()
    WHERE name = ${name}`);
}
