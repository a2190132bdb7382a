import type { EventCatalog } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { markProcessed, recordFailures } from "../outbox/index.ts";
import { sql, type Database } from "../sql/index.ts";
import { DeferredError, HandlerTimeoutError } from "./errors.ts";
import type { ExternalHandler } from "./handler.ts";
import { failedOutcome, failedRun, withTimeout, type Deferred, type EventJob, type Outcome } from "./outcome.ts";
import { toHandledEvent } from "./run-batch.ts";
import { inEventSpan } from "./tracing.ts";

interface RunnableRow {
  attempts: number;
  /** Milliseconds until its `available_at` (a retry's wait); ≤ 0 when due. */
  dueInMs: number;
}

/** runnableRow: the row while it may still run (pending, or dead and retried), else undefined. Primary key, no lock. */
async function runnableRow(db: Database, id: string): Promise<RunnableRow | undefined> {
  const [row] = await db.query<RunnableRow>(sql`
    SELECT attempts, (extract(epoch FROM available_at - now()) * 1000)::float8 AS "dueInMs"
    FROM event_outbox WHERE id = ${id}::uuid AND status IN ('pending', 'dead')`);
  return row;
}

/**
 * Runs an event whose work happens outside the database (a webhook POST): the call runs with no
 * transaction open, then the `processed` mark commits, or the failure is recorded. Two runs of one
 * event at once may both call out (at-least-once, as for any external effect); one marks it. A
 * handler that throws DeferredError records nothing: the run is deferred, not failed. A row not
 * due yet (its `available_at`) is deferred until it is, whatever its job says.
 */
export async function runExternal(
  deps: { db: Database; catalog: EventCatalog; logger: Logger },
  handler: ExternalHandler,
  job: EventJob,
): Promise<Outcome | Deferred> {
  const row = await runnableRow(deps.db, job.id);
  if (!row) return { kind: "skipped" };
  // Its call is not due yet (a retry's wait, recorded in the row, that its job did not keep: a job
  // run again after a stall, or promoted by hand): it waits, as a deferral, spending no attempt.
  if (row.dueInMs > 0) return { kind: "deferred", delayMs: Math.ceil(row.dueInMs) };
  const started = performance.now();
  try {
    // Its attempt is the row's count: the job's may lag it (a job run again after a stall).
    const event = { ...toHandledEvent(deps.catalog, job), attempt: row.attempts + 1 };
    const timeoutMs = deps.catalog.policyOf(event.type).timeoutMs;
    const logger = deps.logger.child({ eventId: event.id, eventType: event.type });
    await inEventSpan({ job, event }, () =>
      withTimeout(handler.run({ db: deps.db, event, logger }), timeoutMs, () => new HandlerTimeoutError(event.type, timeoutMs)),
    );
  } catch (caught) {
    if (caught instanceof DeferredError) return { kind: "deferred", delayMs: caught.delayMs };
    const error = caught instanceof Error ? caught : new Error(String(caught));
    const recorded = await recordFailures(deps.db, [failedRun(job, error)]);
    if (recorded.lost.length > 0) return lost(deps.logger, job, "its failure");
    return failedOutcome(job, error, started);
  }
  const [marked] = (await markProcessed(deps.db, [job.id])).changed;
  if (!marked) return lost(deps.logger, job, "its processed mark");
  return { kind: "handled", durationMs: performance.now() - started, wasDead: marked.previous_status === "dead" };
}

/** Another run or an admin finished the row while the call ran: nothing to record, not counted as handled. */
function lost(logger: Logger, job: EventJob, what: string): Outcome {
  logger.warn({ eventId: job.id, eventType: job.data.type }, `the event was no longer pending or dead when ${what} was written; left as it is`);
  return { kind: "skipped" };
}
