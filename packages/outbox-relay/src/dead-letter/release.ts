import { findRunnableHeads, type OutboxEvent } from "../outbox/index.ts";
import { enqueueEvents, type QueueSet } from "../queues/index.ts";
import type { Queryable } from "../sql/index.ts";

/** The event's job is not queued, though its row changed: the rescuer queues it later. */
export class ReleaseNotQueuedError extends Error {
  readonly code = "DEAD_LETTER_NOT_QUEUED";
  constructor(eventId: string, options: ErrorOptions) {
    super(`event ${eventId} left the dead-letter queue, but the job to run next could not be queued now; the rescuer will queue it`, options);
    this.name = "ReleaseNotQueuedError";
  }
}

/**
 * After an event leaves the dead-letter queue (retried: pending; skipped), queues what may run now:
 * the runnable head of its aggregate (the retried event itself, or the event the skipped one held
 * back). A retried event of an unordered type runs whatever its aggregate holds, so it is queued
 * itself. Job id = event id: a job already queued is not added twice. Rows behind the relay's
 * cursor are never read by the relay again, so this is their way into Redis; if Redis refuses, the
 * rescuer (src/relay/recover.ts) queues them on its next pass.
 */
export async function queueReleased(
  db: Queryable,
  queues: QueueSet,
  event: OutboxEvent & { status: string },
  { retryBackoffMs }: { retryBackoffMs?: number | undefined },
): Promise<void> {
  try {
    const heads = await findRunnableHeads(db, [{ aggregateType: event.aggregate_type, aggregateId: event.aggregate_id }]);
    const itself = !event.ordered && event.status === "pending" && !heads.some((head) => head.id === event.id) ? [event] : [];
    // A job each: the retried event's is the one an admin finds in Bull Board.
    await enqueueEvents(queues, [...heads, ...itself], { backoffMs: retryBackoffMs, eventsPerJob: 1 });
  } catch (error) {
    throw new ReleaseNotQueuedError(event.id, { cause: error });
  }
}
