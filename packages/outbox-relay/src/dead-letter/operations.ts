import { retryDeadRows, skipDeadRows, type ReleasedEvent, type Transition } from "../outbox/index.ts";
import type { QueueSet } from "../queues/index.ts";
import { sql, type Database, type Queryable } from "../sql/index.ts";
import { clearJobs } from "./queue.ts";
import { queueReleased } from "./release.ts";

export class DeadLetterError extends Error {
  constructor(
    readonly code: "EVENT_NOT_FOUND" | "EVENT_NOT_DEAD",
    message: string,
  ) {
    super(message);
    this.name = "DeadLetterError";
  }
}

export interface DeadEvent {
  id: string;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

export interface ReleaseOptions {
  /** RETRY_BACKOFF_MS: the first retry delay of the jobs queued, instead of each type's. */
  retryBackoffMs?: number | undefined;
}

/**
 * listDead: dead events, oldest first, from Postgres (the DLQ outlives Redis). $1 an event type or
 * null for every type, $2 at most this many. Reads event_outbox_dead_idx (created_at WHERE status =
 * 'dead') in order; plain reads, no locks.
 */
export async function listDead(db: Queryable, { type, limit = 100 }: { type?: string; limit?: number } = {}): Promise<DeadEvent[]> {
  return db.query<DeadEvent>(sql`
    SELECT id::text AS id, event_type AS "eventType", aggregate_type AS "aggregateType", aggregate_id AS "aggregateId",
      attempts, last_error AS "lastError", created_at AS "createdAt"
    FROM event_outbox
    WHERE status = 'dead' AND (${type ?? null}::text IS NULL OR event_type = ${type ?? null}::text)
    ORDER BY created_at, id
    LIMIT ${limit}`);
}

/** eventState: $1 the event id. Reads the primary key; no lock (the transition checks `dead` again). */
async function eventState(db: Queryable, eventId: string): Promise<{ status: string; eventType: string } | undefined> {
  const [row] = await db.query<{ status: string; eventType: string }>(sql`
    SELECT status, event_type AS "eventType" FROM event_outbox WHERE id = ${eventId}::uuid`);
  return row;
}

function refusal(eventId: string, state: { status: string } | undefined): DeadLetterError {
  if (!state) return new DeadLetterError("EVENT_NOT_FOUND", `no event with id ${eventId}`);
  return new DeadLetterError("EVENT_NOT_DEAD", `event ${eventId} is ${state.status}, not dead`);
}

async function requireDead(db: Queryable, eventId: string): Promise<{ eventType: string }> {
  const state = await eventState(db, eventId);
  if (state?.status !== "dead") throw refusal(eventId, state);
  return state;
}

/**
 * The row after its transition out of `dead`. Lost: another admin, a retried job or a skip of its
 * aggregate changed it first; the refusal names the state it is in now.
 */
async function released(db: Queryable, eventId: string, transition: Transition<ReleasedEvent>): Promise<ReleasedEvent> {
  const [event] = transition.changed;
  if (!event) throw refusal(eventId, await eventState(db, eventId));
  return event;
}

/**
 * retryDead: sends a dead event back to pending with its attempts reset, and queues its job at
 * once: the row is behind the relay's cursor, so the relay will not read it again. Its old jobs
 * are removed first so the new one, with the same job id, is not taken for a duplicate.
 */
export async function retryDead(
  db: Database,
  queues: QueueSet,
  eventId: string,
  options: { keepDeadLetterJob?: boolean } & ReleaseOptions = {},
): Promise<void> {
  const { eventType } = await requireDead(db, eventId);
  await clearJobs(queues, eventId, eventType, options);
  const event = await released(db, eventId, await retryDeadRows(db, [eventId]));
  await queueReleased(db, queues, event, options);
}

/** Where retryAllDead has got to: the last event retried, its created_at as Postgres' exact text. */
interface DeadPosition {
  createdAt: string;
  id: string;
}

/**
 * deadPage: dead events after a position, oldest first. $1 an event type or null, $2 the position's
 * created_at (exact text, microseconds kept) or null for the start, $3 its id, $4 at most this many.
 * Reads event_outbox_dead_idx (created_at WHERE status = 'dead') in order; plain reads, no locks.
 */
async function deadPage(db: Queryable, type: string | null, after: DeadPosition | null, limit: number): Promise<DeadPosition[]> {
  return db.query<DeadPosition>(sql`
    SELECT id::text AS id, created_at::text AS "createdAt"
    FROM event_outbox
    WHERE status = 'dead' AND (${type}::text IS NULL OR event_type = ${type}::text)
      AND (${after?.createdAt ?? null}::timestamptz IS NULL OR (created_at, id) > (${after?.createdAt ?? null}::timestamptz, ${after?.id ?? null}::uuid))
    ORDER BY created_at, id
    LIMIT ${limit}`);
}

/**
 * retryAllDead: retries every event that is dead (of one type, if given), oldest first, each at
 * most once per call: it walks the dead events by (created_at, id) and never goes back, so an event
 * that dies again while the call runs (its position is behind) waits for the next call. Returns
 * the ids retried, each once; one that stopped being dead before its turn is left out.
 */
export async function retryAllDead(db: Database, queues: QueueSet, { type, ...options }: { type?: string } & ReleaseOptions = {}): Promise<string[]> {
  const retried = new Set<string>();
  let position: DeadPosition | null = null;
  for (;;) {
    const page = await deadPage(db, type ?? null, position, 500);
    if (page.length === 0) return [...retried];
    for (const event of page) {
      if (retried.has(event.id)) continue;
      try {
        await retryDead(db, queues, event.id, options);
        retried.add(event.id);
      } catch (error) {
        if (!(error instanceof DeadLetterError)) throw error;
      }
    }
    position = page.at(-1)!;
  }
}

/**
 * skipDead: passes over a dead event for good (`skipped`), and queues the event of its aggregate
 * it was holding back, which may run now.
 */
export async function skipDead(db: Database, queues: QueueSet, eventId: string, options: ReleaseOptions = {}): Promise<void> {
  const { eventType } = await requireDead(db, eventId);
  const event = await released(db, eventId, await skipDeadRows(db, [eventId]));
  await clearJobs(queues, eventId, eventType);
  await queueReleased(db, queues, event, options);
}
