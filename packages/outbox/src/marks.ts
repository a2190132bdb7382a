import { sql, type Queryable } from "@outbox/sql";
import { execute, type Executor } from "@outbox/events";
import type { OutboxStatus } from "./status.ts";

export interface MarkedEvent {
  id: string;
  /** The status before the mark: `dead` when an admin retried the event's failed job. */
  previous_status: OutboxStatus;
}

/**
 * markProcessed: an event's one write when it is handled, and its exactly-once record. Marks the
 * rows that may still run (pending, or dead) `processed`, in the transaction that will hold the
 * handlers' effects, before they run. The UPDATE takes each row's lock: a second transaction
 * marking the same event waits for this one, re-checks the status on the row as committed, finds
 * it no longer runnable and leaves it out, so an event's effects can commit only once. Returns the
 * events this transaction owns, with the status each had when the statement began (no separate
 * row lock is taken to read it: one write per event). Reads the primary key.
 */
export async function markProcessed(tx: Queryable, ids: readonly string[]): Promise<MarkedEvent[]> {
  if (ids.length === 0) return [];
  return tx.query<MarkedEvent>(sql`
    UPDATE event_outbox o
    SET status = 'processed', processed_at = now(), attempts = o.attempts + 1, last_error = NULL
    FROM (SELECT id, status FROM event_outbox WHERE id = ANY(${ids}::uuid[])) AS before
    WHERE o.id = before.id AND o.status IN ('pending', 'dead')
    RETURNING o.id::text AS id, before.status AS previous_status`);
}

export interface FailedRun {
  id: string;
  error: string;
  /** A final failure: the row becomes dead and holds back its aggregate. */
  dead: boolean;
}

/**
 * revertMarks: events this transaction marked processed whose handler then failed (their effects
 * were rolled back to a savepoint). Each goes back to the status it had, or to dead, with the
 * error; the mark already counted the attempt. Touches only rows this transaction holds.
 */
export async function revertMarks(tx: Queryable, failures: readonly (FailedRun & { previousStatus: OutboxStatus })[]): Promise<void> {
  if (failures.length === 0) return;
  const rows = failures.map((f) => ({ id: f.id, error: f.error, status: f.dead ? "dead" : f.previousStatus }));
  await tx.execute(sql`
    UPDATE event_outbox o SET status = f.status, processed_at = NULL, last_error = f.error
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS f(id uuid, error text, status text)
    WHERE o.id = f.id AND o.status = 'processed'`);
}

/**
 * recordFailures: failed runs of events no transaction marked (an external handler, a handler that
 * timed out): counts the attempt and keeps the error; a final failure makes the row dead. Only
 * rows still runnable: one another run has finished meanwhile keeps its state.
 */
export async function recordFailures(executor: Executor, failures: readonly FailedRun[]): Promise<void> {
  if (failures.length === 0) return;
  await execute(
    executor,
    sql`
      UPDATE event_outbox o
      SET attempts = o.attempts + 1, last_error = f.error, status = CASE WHEN f.dead THEN 'dead' ELSE o.status END
      FROM jsonb_to_recordset(${JSON.stringify(failures)}::jsonb) AS f(id uuid, error text, dead boolean)
      WHERE o.id = f.id AND o.status IN ('pending', 'dead')`,
  );
}
