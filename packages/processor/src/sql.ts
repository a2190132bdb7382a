import type { Tx } from "@outbox/db";

/**
 * takeInboxMarks: inserts the inbox rows of the batch's events that may still run. Returns the
 * events this transaction owns: an event already in the inbox was handled before and is skipped,
 * and a second transaction holding the same event waits on the inbox key until this one ends, then
 * skips it. No row lock on the outbox: the inbox key is the lock, and markProcessed's update
 * takes the row lock anyway.
 */
export async function takeInboxMarks(tx: Tx, ids: string[]): Promise<{ id: string; status: string }[]> {
  return tx.$queryRaw<{ id: string; status: string }[]>`
    WITH runnable AS (
      SELECT id, event_type, status FROM event_outbox
      WHERE id = ANY(${ids}::uuid[]) AND status IN ('pending', 'dispatched', 'dead')
    ), marked AS (
      INSERT INTO event_inbox (event_id, event_type)
      SELECT id, event_type FROM runnable
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id
    )
    SELECT runnable.id::text AS id, runnable.status FROM runnable JOIN marked ON marked.event_id = runnable.id`;
}

/**
 * markProcessed: the handled events' final state, in the transaction that holds their effects.
 * When one of them has a later pending event of its aggregate, which it held back until now, the
 * same statement NOTIFYs the scanners (delivered at commit). One index probe per event, in a
 * LATERAL so the planner cannot swap it for a scan of every pending row.
 */
export async function markProcessed(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.$queryRaw`
    WITH done AS (
      UPDATE event_outbox
      SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
      WHERE id = ANY(${ids}::uuid[]) AND status IN ('pending', 'dispatched', 'dead')
      RETURNING aggregate_type, aggregate_id, sequence
    ), released AS (
      SELECT 1 FROM done
      CROSS JOIN LATERAL (
        SELECT 1 FROM event_outbox later
        WHERE later.aggregate_type = done.aggregate_type AND later.aggregate_id = done.aggregate_id
          AND later.status = 'pending' AND later.sequence > done.sequence
        LIMIT 1) successor
      LIMIT 1
    )
    SELECT count(pg_notify('event_outbox', ''))::int AS notified FROM released`;
}

export interface FailedRun {
  id: string;
  error: string;
  dead: boolean;
}

/**
 * recordFailures: counts the failed runs and keeps their errors; a final failure makes the row
 * dead, which holds its aggregate. Removes the inbox marks the failed events took.
 */
export async function recordFailures(tx: Tx, failures: FailedRun[]): Promise<void> {
  if (failures.length === 0) return;
  const ids = failures.map((failure) => failure.id);
  await tx.$executeRaw`DELETE FROM event_inbox WHERE event_id = ANY(${ids}::uuid[])`;
  await tx.$executeRaw`
    UPDATE event_outbox o
    SET attempts = o.attempts + 1,
        last_error = f.error,
        status = CASE WHEN f.dead THEN 'dead' ELSE o.status END
    FROM unnest(${ids}::uuid[], ${failures.map((f) => f.error)}::text[], ${failures.map((f) => f.dead)}::boolean[])
      AS f(id, error, dead)
    WHERE o.id = f.id AND o.status IN ('pending', 'dispatched', 'dead')`;
}
