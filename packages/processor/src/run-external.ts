import type { PrismaClient } from "@outbox/db";
import { InvalidEventError, policyOf } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import { HandlerTimeoutError, PermanentError } from "./errors.ts";
import type { ExternalHandler } from "./handler.ts";
import { errorMessage, isFinalAttempt, withTimeout, type EventJob, type Outcome } from "./outcome.ts";
import { toHandledEvent } from "./run-batch.ts";
import { markProcessed, recordFailures, takeInboxMarks } from "./sql.ts";

/**
 * runnableStatus: the row's status when it may still run and has no inbox mark, else null.
 * Read without a lock: the final transaction takes the inbox mark, which settles any race.
 */
async function runnableStatus(prisma: PrismaClient, id: string): Promise<string | null> {
  const [row] = await prisma.$queryRaw<{ status: string }[]>`
    SELECT o.status FROM event_outbox o
    WHERE o.id = ${id}::uuid AND o.status IN ('pending', 'dispatched', 'dead')
      AND NOT EXISTS (SELECT 1 FROM event_inbox i WHERE i.event_id = o.id)`;
  return row?.status ?? null;
}

/**
 * Runs an event whose work happens outside the database (a webhook POST): the call runs with no
 * transaction open, then the inbox mark and `processed` commit, or the failure is recorded.
 */
export async function runExternal(
  deps: { prisma: PrismaClient; logger: Logger },
  handler: ExternalHandler,
  job: EventJob,
): Promise<Outcome> {
  const status = await runnableStatus(deps.prisma, job.id);
  if (status === null) return { kind: "skipped" };
  const started = performance.now();
  try {
    const event = toHandledEvent(job);
    const timeoutMs = policyOf(event.type).timeoutMs;
    const logger = deps.logger.child({ eventId: event.id, eventType: event.type });
    await withTimeout(handler.run({ prisma: deps.prisma, event, logger }), timeoutMs, () => new HandlerTimeoutError(event.type, timeoutMs));
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    const dead = error instanceof InvalidEventError || error instanceof PermanentError || isFinalAttempt(job);
    await deps.prisma.$transaction((tx) => recordFailures(tx, [{ id: job.id, error: errorMessage(error), dead }]));
    return { kind: dead ? "dead" : "retry", error, durationMs: performance.now() - started };
  }
  await deps.prisma.$transaction(async (tx) => {
    const owned = await takeInboxMarks(tx, [job.id]);
    await markProcessed(tx, owned.map((row) => row.id));
  });
  return { kind: "handled", durationMs: performance.now() - started, wasDead: status === "dead" };
}
