import { sql, type Queryable, type Statement } from "../sql/index.ts";
import { eventColumns, type OutboxEvent } from "./event-row.ts";
import { execute, query, type Executor } from "../events/index.ts";

/**
 * The one owner of an outbox row's status (docs/state-machine.md): every statement that changes
 * it is below. Each checks, under the row's lock, that the row is still in the state it expects
 * (and, where the caller holds one, its claim), and reports the rows it did not change as `lost`.
 *
 * `dispatched` is not written any more: the relay keeps a cursor instead of a per-row mark, and a
 * pending row the relay has passed is reported as dispatched. The value stays valid for rows
 * written by older versions and for readers.
 */
export const outboxStatus = {
  pending: "pending",
  dispatched: "dispatched",
  processed: "processed",
  dead: "dead",
  skipped: "skipped",
} as const;

export type OutboxStatus = (typeof outboxStatus)[keyof typeof outboxStatus];

/**
 * What a transition did. `changed`: the rows it moved. `lost`: the ids it was asked to move that
 * were no longer in the state it expects (another run, an admin or retention got there first) or
 * are gone. Zero rows changed is never success by itself: the caller decides what a lost row means.
 */
export interface Transition<Changed = string> {
  changed: Changed[];
  lost: string[];
}

/** Postgres returns ids as lowercase text; a caller may have asked in capitals. */
function transition<Changed>(asked: readonly string[], changed: Changed[], idOf: (row: Changed) => string): Transition<Changed> {
  const moved = new Set(changed.map(idOf));
  return { changed, lost: asked.filter((id) => !moved.has(id.toLowerCase())) };
}

const byIds = (asked: readonly string[], rows: { id: string }[]): Transition => transition(asked, rows.map((row) => row.id), (id) => id);

/** A transition whose caller holds the rows' claim changed fewer rows than it was given. */
export class OutboxRowsLostError extends Error {
  readonly code = "OUTBOX_ROWS_LOST";
  constructor(
    readonly transitionName: string,
    readonly lost: readonly string[],
  ) {
    super(`${transitionName}: outbox rows changed under the transaction that holds them: ${lost.join(", ")}`);
    this.name = "OutboxRowsLostError";
  }
}

export interface MarkedEvent {
  id: string;
  /** The status before the mark: `dead` when an admin retried the event's failed job. */
  previous_status: OutboxStatus;
}

/**
 * markProcessed (pending | dead → processed): an event's one write when it is handled, and its
 * exactly-once record. Marks the rows that may still run, in the transaction that will hold the
 * handlers' effects, before they run. The UPDATE takes each row's lock, which is the claim: a
 * second transaction marking the same event waits for this one, re-checks the status on the row as
 * committed, finds it no longer runnable and leaves it out (lost), so an event's effects can commit
 * only once. `changed`: the events this transaction owns, with the status each had once locked
 * (FOR UPDATE re-reads a row changed while it waited: an admin's retry that committed meanwhile
 * makes it pending, not dead). Only the `revivable` ids may be dead (default: all): the processor
 * passes the jobs an admin retried after they failed, so a batch member or a job BullMQ has not
 * failed yet never runs a dead row.
 * Reads the primary key.
 */
export async function markProcessed(tx: Queryable, ids: readonly string[], revivable: readonly string[] = ids): Promise<Transition<MarkedEvent>> {
  if (ids.length === 0) return { changed: [], lost: [] };
  const marked = await tx.query<MarkedEvent>(sql`
    WITH before AS (
      SELECT id, status FROM event_outbox
      WHERE id = ANY(${ids}::uuid[]) AND (status = 'pending' OR (status = 'dead' AND id = ANY(${revivable}::uuid[])))
      FOR UPDATE
    )
    UPDATE event_outbox o
    SET status = 'processed', processed_at = now(), attempts = o.attempts + 1, last_error = NULL
    FROM before
    WHERE o.id = before.id
    RETURNING o.id::text AS id, before.status AS previous_status`);
  return transition(ids, marked, (row) => row.id);
}

export interface FailedRun {
  id: string;
  error: string;
  /** A final failure: the row becomes dead and holds back its aggregate. */
  dead: boolean;
  /** A retry: the row is due again this long after the failure (its `available_at`), so a job Redis loses meanwhile is queued again with the rest of its wait. */
  retryInMs?: number | null;
}

/** A failed run's new `available_at` (f: the failures' recordset): a retry's due time, else unchanged. */
const retryDueAt = sql`CASE WHEN f.retry_in_ms IS NOT NULL THEN clock_timestamp() + f.retry_in_ms * interval '1 millisecond' ELSE o.available_at END`;

/**
 * revertMarks (processed → its previous status, or dead): events this transaction marked processed
 * whose handler then failed (their effects were rolled back to a savepoint). Each goes back with
 * the error; the mark already counted the attempt. The claim: only a row whose current version this
 * transaction wrote (xmin) and that is still `processed`; marks are taken outside any savepoint, so
 * xmin is the transaction's own id. A lost row here means the claim was broken.
 */
export async function revertMarks(tx: Queryable, failures: readonly (FailedRun & { previousStatus: OutboxStatus })[]): Promise<Transition> {
  if (failures.length === 0) return { changed: [], lost: [] };
  const rows = failures.map((f) => ({ id: f.id, error: f.error, status: f.dead ? outboxStatus.dead : f.previousStatus, retry_in_ms: f.retryInMs ?? null }));
  const reverted = await tx.query<{ id: string }>(sql`
    UPDATE event_outbox o SET status = f.status, processed_at = NULL, last_error = f.error, available_at = ${retryDueAt}
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS f(id uuid, error text, status text, retry_in_ms float8)
    WHERE o.id = f.id AND o.status = 'processed' AND o.xmin = pg_current_xact_id()::xid
    RETURNING o.id::text AS id`);
  return byIds(
    failures.map((f) => f.id),
    reverted,
  );
}

/**
 * recordFailures (pending → pending with attempts + 1; pending | dead → dead on a final failure):
 * failed runs of events no transaction marked (an external handler, a handler that timed out):
 * counts the attempt and keeps the error. Only rows still runnable: one that another run finished,
 * or an admin skipped, meanwhile keeps its state and is lost.
 */
export async function recordFailures(executor: Executor, failures: readonly FailedRun[]): Promise<Transition> {
  if (failures.length === 0) return { changed: [], lost: [] };
  const rows = failures.map((f) => ({ id: f.id, error: f.error, dead: f.dead, retry_in_ms: f.retryInMs ?? null }));
  const recorded = await query<{ id: string }>(
    executor,
    sql`
      UPDATE event_outbox o
      SET attempts = o.attempts + 1, last_error = f.error, status = CASE WHEN f.dead THEN 'dead' ELSE o.status END, available_at = ${retryDueAt}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS f(id uuid, error text, dead boolean, retry_in_ms float8)
      WHERE o.id = f.id AND o.status IN ('pending', 'dead')
      RETURNING o.id::text AS id`,
  );
  return byIds(
    failures.map((f) => f.id),
    recorded,
  );
}

/** A row that left the dead-letter queue, as its release reads it to queue what may run now. */
export type ReleasedEvent = OutboxEvent & { status: OutboxStatus };

/**
 * retryDeadRows (dead → pending): attempts reset, due now. Only while still dead: the row lock
 * orders it after a concurrent change, and a row another admin or a retried job changed first is
 * lost. Reads the primary key.
 */
export async function retryDeadRows(executor: Executor, ids: readonly string[]): Promise<Transition<ReleasedEvent>> {
  if (ids.length === 0) return { changed: [], lost: [] };
  const rows = await query<ReleasedEvent>(
    executor,
    sql`
      UPDATE event_outbox o SET status = 'pending', attempts = 0, available_at = now()
      WHERE o.id = ANY(${ids}::uuid[]) AND o.status = 'dead'
      RETURNING ${eventColumns}, o.status`,
  );
  return transition(ids, rows, (row) => row.id);
}

/** skipDeadRows (dead → skipped): passed over for good, finished now. Only while still dead, as above. */
export async function skipDeadRows(executor: Executor, ids: readonly string[]): Promise<Transition<ReleasedEvent>> {
  if (ids.length === 0) return { changed: [], lost: [] };
  const rows = await query<ReleasedEvent>(
    executor,
    sql`
      UPDATE event_outbox o SET status = 'skipped', processed_at = now()
      WHERE o.id = ANY(${ids}::uuid[]) AND o.status = 'dead'
      RETURNING ${eventColumns}, o.status`,
  );
  return transition(ids, rows, (row) => row.id);
}

export interface UnfinishedFilter {
  aggregateType: string;
  /** One aggregate; or, without it, every aggregate of the type whose payload has `payloadEquals`. */
  aggregateId?: string;
  payloadEquals?: { field: string; value: string };
  eventType: string;
  /** Kept as the rows' last_error: why they were not run. */
  reason: string;
}

/** The rows of an UnfinishedFilter: one aggregate, or the payload's field (e.g. a bulk resend's deliveries to one endpoint). */
function ofFilter({ aggregateId, payloadEquals }: UnfinishedFilter): Statement {
  if (aggregateId !== undefined) return sql`aggregate_id = ${aggregateId}`;
  if (!payloadEquals) throw new RangeError("skipUnfinished needs an aggregateId or payloadEquals");
  return sql`payload->>${payloadEquals.field} = ${payloadEquals.value}`;
}

export async function skipUnfinished(executor: Executor, filter: UnfinishedFilter): Promise<Transition> {
  const { aggregateType, eventType, reason } = filter;
  const rows = await query<{ id: string; changed: boolean }>(
    executor,
    sql`
      WITH unfinished AS (
        SELECT id FROM event_outbox
        WHERE aggregate_type = ${aggregateType} AND ${ofFilter(filter)} AND event_type = ${eventType}
          AND status IN ('pending', 'dead')
      ), skipped AS (
        UPDATE event_outbox o SET status = 'skipped', processed_at = now(), last_error = ${reason}
        FROM unfinished u
        WHERE o.id = u.id AND o.status IN ('pending', 'dead')
        RETURNING o.id
      )
      SELECT u.id::text AS id, s.id IS NOT NULL AS changed FROM unfinished u LEFT JOIN skipped s ON s.id = u.id`,
  );
  return byIds(
    rows.map((row) => row.id),
    rows.filter((row) => row.changed),
  );
}

/**
 * pruneFinished (processed | skipped → deleted): at most `limit` rows finished before `olderThan`,
 * oldest first, in one statement. Reads event_outbox_finished_idx (processed_at
 * WHERE status IN ('processed','skipped')) in order, so it touches only the rows it deletes. FOR
 * UPDATE SKIP LOCKED: a row another session holds (an admin action, a second pruner) is left for
 * the next call, never waited on; a row it locks is checked again as committed (FOR UPDATE's
 * re-check), so a row that changed meanwhile is not taken. It picks its rows itself, under their
 * locks, so none is lost: it returns how many it deleted. Pending and dead rows are never touched.
 */
export async function pruneFinished(db: Queryable, olderThan: Date, limit: number): Promise<number> {
  return db.execute(sql`
    DELETE FROM event_outbox
    WHERE id IN (
      SELECT id FROM event_outbox
      WHERE status IN ('processed', 'skipped') AND processed_at < ${olderThan}
      ORDER BY processed_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )`);
}

/**
 * markUnordered (ordered → unordered, status unchanged): the unfinished rows of these types (the
 * catalog's unordered ones) that were stored ordered: written before migration 0005, or by a
 * publisher that did not set the column (plain SQL, an older version). From then on they neither
 * wait nor hold their aggregate's later events. Returns how many changed; a worker runs it at start.
 * A row another session holds (being handled, or an admin's action) is left, never waited on.
 */
export async function markUnordered(db: Queryable, types: readonly string[]): Promise<number> {
  if (types.length === 0) return 0;
  return db.execute(sql`
    UPDATE event_outbox SET ordered = false
    WHERE id IN (
      SELECT id FROM event_outbox
      WHERE status IN ('pending', 'dead') AND ordered AND event_type = ANY(${types}::text[])
      FOR UPDATE SKIP LOCKED)`);
}

/**
 * releaseHold (ordered → unordered, status unchanged): one event of the aggregate type that no
 * longer holds its aggregate's later events (a bulk resend's delivery that failed for good); they
 * become runnable and the rescuer queues them. Reads the primary key.
 */
export async function releaseHold(executor: Executor, id: string, aggregateType: string): Promise<void> {
  await execute(executor, sql`UPDATE event_outbox SET ordered = false WHERE id = ${id}::uuid AND aggregate_type = ${aggregateType} AND ordered`);
}

/**
 * supersedeDeadRows (dead → skipped): dead events another event now carries (a bulk resend's new
 * copy of a failed webhook), each finished now with its own reason. Only while still dead, as
 * skipDeadRows. Reads the primary key.
 */
export async function supersedeDeadRows(executor: Executor, rows: readonly { id: string; reason: string }[]): Promise<Transition> {
  if (rows.length === 0) return { changed: [], lost: [] };
  const changed = await query<{ id: string }>(
    executor,
    sql`
      UPDATE event_outbox o SET status = 'skipped', processed_at = now(), last_error = r.reason
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(id uuid, reason text)
      WHERE o.id = r.id AND o.status = 'dead'
      RETURNING o.id::text AS id`,
  );
  return byIds(
    rows.map((row) => row.id),
    changed,
  );
}
