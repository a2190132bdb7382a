import type { PrismaClient, Tx } from "@outbox/db";
import { InvalidEventError, isEventType, parseEvent, policyOf } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import { publish } from "@outbox/outbox";
import { HandlerTimeoutError, NoHandlerError, PermanentError } from "./errors.ts";
import type { HandledEvent, HandlerMap, TransactionalHandler } from "./handler.ts";
import { attemptOf, errorMessage, isFinalAttempt, withTimeout, type EventJob, type Outcome } from "./outcome.ts";
import { markProcessed, recordFailures, takeInboxMarks, type FailedRun } from "./sql.ts";

export interface BatchDeps {
  prisma: PrismaClient;
  handlers: HandlerMap;
  logger: Logger;
}

/** Thrown inside the transaction to roll it back and run the batch again another way. */
class Restart extends Error {
  constructor(
    readonly jobId: string,
    readonly excluded: Error | undefined,
    readonly transient = false,
  ) {
    super("restart batch");
  }
}

/** Deadlocks and serialization failures: the whole batch runs again at once, up to this many times. */
const transientRetries = 5;

/** Postgres 40P01 (deadlock) and 40001 (serialization failure), as Prisma reports them. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "P2034" || code === "40P01" || code === "40001" || /deadlock detected|could not serialize access/.test(error.message);
}

/**
 * Runs a batch of events in ONE transaction: each event's effects, its inbox mark and its
 * `processed` status commit together, so a crash or a duplicate job can never apply them twice.
 *
 * The first run takes no savepoints (a failure is rare and savepoints cost a round trip each).
 * When a handler fails, the transaction rolls back and the batch runs again with a savepoint per
 * event, so the failure is contained and the others commit. A handler that times out may still be
 * using the transaction, so it is left out of the next run instead.
 */
export async function runBatch(deps: BatchDeps, jobs: EventJob[]): Promise<Outcome[]> {
  const excluded = new Map<string, Error>();
  let savepoints = false;
  let transientLeft = transientRetries;
  for (;;) {
    try {
      return await deps.prisma.$transaction((tx) => runInTransaction(deps, tx, jobs, excluded, { savepoints, retryTransient: transientLeft > 0 }), {
        timeout: transactionTimeoutMs(jobs),
        maxWait: 10_000,
      });
    } catch (error) {
      if (!(error instanceof Restart)) throw error;
      if (error.transient) transientLeft--;
      else if (error.excluded) excluded.set(error.jobId, error.excluded);
      else savepoints = true;
    }
  }
}

function transactionTimeoutMs(jobs: EventJob[]): number {
  const longest = Math.max(...jobs.map((job) => (isEventType(job.data.type) ? policyOf(job.data.type).timeoutMs : 30_000)));
  return longest * 2 + 10_000;
}

async function runInTransaction(
  deps: BatchDeps,
  tx: Tx,
  jobs: EventJob[],
  excluded: Map<string, Error>,
  mode: RunMode,
): Promise<Outcome[]> {
  const owned = new Map((await takeInboxMarks(tx, jobs.filter((job) => !excluded.has(job.id)).map((job) => job.id))).map((row) => [row.id, row.status]));
  const outcomes: Outcome[] = [];
  const failures: FailedRun[] = [];
  const handled: string[] = [];

  for (const job of jobs) {
    const started = performance.now();
    const timedOut = excluded.get(job.id);
    if (timedOut) {
      outcomes.push(failed(job, timedOut, started, failures));
      continue;
    }
    const status = owned.get(job.id);
    if (status === undefined) {
      outcomes.push({ kind: "skipped" });
      continue;
    }
    const error = await runOne(deps, tx, job, mode);
    if (error) {
      outcomes.push(failed(job, error, started, failures));
    } else {
      handled.push(job.id);
      outcomes.push({ kind: "handled", durationMs: performance.now() - started, wasDead: status === "dead" });
    }
  }
  await recordFailures(tx, failures);
  await markProcessed(tx, handled);
  return outcomes;
}

function failed(job: EventJob, error: Error, started: number, failures: FailedRun[]): Outcome {
  const dead = error instanceof InvalidEventError || error instanceof PermanentError || isFinalAttempt(job);
  failures.push({ id: job.id, error: errorMessage(error), dead });
  return { kind: dead ? "dead" : "retry", error, durationMs: performance.now() - started };
}

interface RunMode {
  savepoints: boolean;
  /** A deadlock or serialization failure reruns the batch instead of failing the event. */
  retryTransient: boolean;
}

/** Runs one event's handler. Returns its error, or throws Restart when the batch must run again. */
async function runOne(deps: BatchDeps, tx: Tx, job: EventJob, { savepoints, retryTransient }: RunMode): Promise<Error | undefined> {
  let event: HandledEvent;
  let handler: TransactionalHandler;
  try {
    event = toHandledEvent(job);
    handler = handlerFor(deps.handlers, event.type);
  } catch (error) {
    return error as Error;
  }
  const timeoutMs = policyOf(event.type).timeoutMs;
  let logger: BatchDeps["logger"] | undefined;
  const context = {
    tx,
    event,
    // Made on first use: a child logger per event would cost more than most handlers.
    get logger() {
      return (logger ??= deps.logger.child({ eventId: event.id, eventType: event.type }));
    },
    publish: ((next) => publish(tx, { ...next, causationId: next.causationId ?? event.id })) as Parameters<TransactionalHandler>[0]["publish"],
  };
  if (savepoints) await tx.$executeRaw`SAVEPOINT event_handler`;
  try {
    await withTimeout(handler(context), timeoutMs, () => new HandlerTimeoutError(event.type, timeoutMs));
    if (savepoints) await tx.$executeRaw`RELEASE SAVEPOINT event_handler`;
    return undefined;
  } catch (error) {
    if (error instanceof HandlerTimeoutError) throw new Restart(job.id, error);
    if (retryTransient && isTransientDatabaseError(error)) throw new Restart(job.id, undefined, true);
    if (!savepoints) throw new Restart(job.id, undefined);
    await tx.$executeRaw`ROLLBACK TO SAVEPOINT event_handler`;
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function toHandledEvent(job: EventJob): HandledEvent {
  const { data } = job;
  const payload = parseEvent(data.type, data.payload);
  return {
    id: job.id,
    type: data.type as HandledEvent["type"],
    payload: payload as HandledEvent["payload"],
    aggregateType: data.aggregateType,
    aggregateId: data.aggregateId,
    tenantId: data.tenantId,
    attempt: attemptOf(job),
    createdAt: new Date(data.createdAt),
  };
}

function handlerFor(handlers: HandlerMap, type: HandledEvent["type"]): TransactionalHandler {
  const handler = handlers[type] as TransactionalHandler | { kind: "external" } | undefined;
  if (!handler) throw new NoHandlerError(type);
  if (typeof handler !== "function") throw new Error(`${type} has an external handler; it cannot run in a batch`);
  return handler;
}
