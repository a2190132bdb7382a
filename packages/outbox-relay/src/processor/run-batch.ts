import type { AnyNewEvent, EventCatalog, NewEvent } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { markProcessed, OutboxRowsLostError, recordFailures, revertMarks, type OutboxStatus } from "../outbox/index.ts";
import { isConnectionError, isTransientError, type Database, type Queryable } from "../sql/index.ts";
import { beginOnPool, type BatchTransaction, type BeginBatch } from "./batch-transaction.ts";
import { HandlerTimeoutError, NoHandlerError } from "./errors.ts";
import { isExternal, type AnyHandlerMap, type AtCommit, type EventHandler, type HandledEvent } from "./handler.ts";
import { attemptOf, failedOutcome, failedRun, withTimeout, type EventJob, type Outcome } from "./outcome.ts";
import { inBatchSpan, inEventSpan } from "./tracing.ts";

export interface BatchDeps {
  db: Database;
  catalog: EventCatalog;
  handlers: AnyHandlerMap;
  logger: Logger;
  /** Opens each run's transaction; default: on db's pool (prismaTransactions: in the service's Prisma client). */
  begin?: BeginBatch | undefined;
}

/** How the next run of a batch goes, after what the previous runs found. */
interface Plan {
  /** Run each type's events under a savepoint, and each event under its own when they fail together. */
  contain: boolean;
  /** Events whose handler timed out: left out of the run, failed with the timeout. */
  excluded: Map<string, Error>;
  /** Events of a batch call that timed out: each runs alone, with its own timeout, to find which. */
  alone: Set<string>;
  /** Deadlocks and serialization failures still to absorb by running the whole batch again. */
  transientLeft: number;
}

/** Thrown inside the transaction to roll it back and run the batch again with a changed plan. */
class Restart extends Error {
  constructor(
    readonly change: (plan: Plan) => void,
    /** The connection may still be busy with an abandoned handler: close it instead of rolling back. */
    readonly abandon = false,
  ) {
    super("restart batch");
  }
}

/** A handler call that outlived its type's timeout, with the events it was running. */
class TimedOut extends Error {
  constructor(
    readonly runs: Run[],
    readonly error: HandlerTimeoutError,
  ) {
    super(error.message);
  }
}

interface Run {
  job: EventJob;
  event: HandledEvent;
}

interface BatchRun {
  deps: BatchDeps;
  tx: BatchTransaction;
  plan: Plan;
  failures: Map<string, Error>;
  /** The handlers' atCommit items, by key, from the calls that succeeded. */
  atCommit: Map<string, DeferredWrite>;
}

interface DeferredWrite {
  write: (tx: Queryable, items: unknown[]) => Promise<void>;
  items: unknown[];
}

/**
 * Runs a batch of events in one transaction per event type: each event's `processed` mark (its
 * lock and its exactly-once record) comes first, then its handler's effects, and they commit
 * together, so a crash or a duplicate job can never apply them twice. Events of one type go to
 * their handler together: a batch handler takes them in one call.
 *
 * The first run takes no savepoints. When a handler fails, the transaction rolls back and the batch
 * runs again with a savepoint per type, and per event inside a type that fails, so the failure is
 * contained and the others commit. A deadlock or serialization failure reruns the whole batch. A
 * handler that times out may still be using the connection: it is closed, and the event is left
 * out of the next run (a batch call that times out runs again one event at a time to find which).
 */
export async function runBatch(deps: BatchDeps, jobs: EventJob[]): Promise<Outcome[]> {
  const byType = new Map<string, EventJob[]>();
  for (const job of jobs) {
    const group = byType.get(job.data.type);
    if (group) group.push(job);
    else byType.set(job.data.type, [job]);
  }
  if (byType.size <= 1) return runTransaction(deps, jobs);
  // One transaction per type: each handler takes its row locks in one statement, in key order;
  // two handlers in one transaction (one type's rows, then another's) took them in two rounds,
  // and two such transactions deadlocked (the order domain's soak: ~9 a minute on 20 products).
  const outcomes = new Map<EventJob, Outcome>();
  for (const group of byType.values()) {
    const results = await runTransaction(deps, group);
    group.forEach((job, index) => outcomes.set(job, results[index]!));
  }
  return jobs.map((job) => outcomes.get(job)!);
}

async function runTransaction(deps: BatchDeps, jobs: EventJob[]): Promise<Outcome[]> {
  const plan: Plan = { contain: false, excluded: new Map(), alone: new Set(), transientLeft: 5 };
  let waitMs = 200;
  for (;;) {
    try {
      const outcomes = await runOnce(deps, jobs, plan);
      warnLost(deps.logger, jobs, outcomes);
      return outcomes;
    } catch (error) {
      // Postgres restarting: wait for it rather than spend every event's attempt. A COMMIT whose
      // answer was lost may have committed; the next run then finds its events processed.
      if (!isConnectionError(error) || waitMs > maxConnectionWaitMs) throw error;
      deps.logger.warn({ err: error, retryInMs: waitMs }, "lost the database connection during a batch; running it again");
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs *= 2;
    }
  }
}

/**
 * Events whose row this run lost (`skipped`): another run handled it, an admin skipped it, or
 * retention pruned it before this run could mark it or record its failure. Not counted as handled.
 */
function warnLost(logger: Logger, jobs: EventJob[], outcomes: Outcome[]): void {
  const lost = jobs.filter((_, index) => outcomes[index]!.kind === "skipped");
  if (lost.length === 0) return;
  logger.warn({ eventIds: lost.map((job) => job.id) }, "events no longer runnable when this run reached them (handled, skipped, pruned, or dead for a batch's run); left as they are");
}

/** The longest single wait for Postgres to come back (the waits double from 200 ms up to this). */
const maxConnectionWaitMs = 6400;

async function runOnce(deps: BatchDeps, jobs: EventJob[], plan: Plan): Promise<Outcome[]> {
  const begin = deps.begin ?? beginOnPool(deps.db);
  const bound = { handlerTimeoutMs: deps.catalog.policyOf(jobs[0]!.data.type).timeoutMs, events: jobs.length };
  for (;;) {
    const tx = await begin(bound);
    try {
      const outcomes = await runInTransaction({ deps, tx, plan, failures: new Map(), atCommit: new Map() }, jobs);
      await tx.commit();
      return outcomes;
    } catch (error) {
      if ((error instanceof Restart && error.abandon) || isConnectionError(error)) await tx.abandon();
      else await tx.rollback();
      if (!(error instanceof Restart)) throw error;
      error.change(plan);
    }
  }
}

async function runInTransaction(batch: BatchRun, jobs: EventJob[]): Promise<Outcome[]> {
  const { tx, plan, failures } = batch;
  const started = performance.now();
  const running = jobs.filter((job) => !plan.excluded.has(job.id));
  const marked = await markProcessed(tx, running.map((job) => job.id), running.filter((job) => !job.pendingOnly).map((job) => job.id));
  const previous = new Map(marked.changed.map((row) => [row.id, row.previous_status]));
  for (const [type, runs] of groupByType(batch.deps.catalog, jobs.filter((job) => previous.has(job.id)), failures)) await runType(batch, type, runs);
  await writeAtCommit(batch);

  const byId = new Map(jobs.map((job) => [job.id, job]));
  const jobOf = (id: string) => byId.get(id)!;
  // This transaction holds the rows it marked: a revert that misses one would commit a mark
  // whose effects were rolled back, so it rolls everything back instead.
  const reverted = await revertMarks(tx, [...failures].map(([id, error]) => ({ ...failedRun(jobOf(id), error), previousStatus: previous.get(id)! })));
  if (reverted.lost.length > 0) throw new OutboxRowsLostError("revertMarks", reverted.lost);
  const recorded = await recordFailures(tx, [...plan.excluded].map(([id, error]) => failedRun(jobOf(id), error)));
  const lost = new Set([...marked.lost, ...recorded.lost]);
  return jobs.map((job) => {
    if (lost.has(job.id)) return { kind: "skipped" };
    return outcomeOf(job, previous.get(job.id), failures.get(job.id) ?? plan.excluded.get(job.id), started);
  });
}

function outcomeOf(job: EventJob, previousStatus: OutboxStatus | undefined, error: Error | undefined, started: number): Outcome {
  if (error) return failedOutcome(job, error, started);
  if (previousStatus === undefined) return { kind: "skipped" };
  return { kind: "handled", durationMs: performance.now() - started, wasDead: previousStatus === "dead" };
}

/** The marked jobs as events, grouped by type in arrival order; a payload that fails its schema fails its job. */
function groupByType(catalog: EventCatalog, jobs: EventJob[], failures: Map<string, Error>): Map<string, Run[]> {
  const groups = new Map<string, Run[]>();
  for (const job of jobs) {
    try {
      const event = toHandledEvent(catalog, job);
      const group = groups.get(event.type);
      if (group) group.push({ job, event });
      else groups.set(event.type, [{ job, event }]);
    } catch (error) {
      failures.set(job.id, error as Error);
    }
  }
  return groups;
}

async function runType(batch: BatchRun, type: string, runs: Run[]): Promise<void> {
  const handler = batch.deps.handlers[type] as EventHandler | undefined;
  if (!handler || isExternal(handler)) {
    const error = handler ? new Error(`${type} has an external handler; it cannot run in a batch`) : new NoHandlerError(type);
    for (const run of runs) batch.failures.set(run.job.id, error);
    return;
  }
  const calls = [runs.filter((run) => !batch.plan.alone.has(run.job.id)), ...runs.filter((run) => batch.plan.alone.has(run.job.id)).map((run) => [run])];
  for (const call of calls.filter((c) => c.length > 0)) {
    if (batch.plan.contain) await runContained(batch, handler, call);
    else await invoke(batch, handler, call).catch((error: unknown) => {
      throw restartFor(error, batch.plan) ?? new Restart((plan) => (plan.contain = true));
    });
  }
}

/** Runs under a savepoint; an ordinary failure rolls back to it and splits the call into single events. */
async function runContained(batch: BatchRun, handler: Exclude<EventHandler, { kind: "external" }>, runs: Run[]): Promise<void> {
  const { tx } = batch;
  await tx.run("SAVEPOINT handler");
  try {
    await invoke(batch, handler, runs);
    await tx.run("RELEASE SAVEPOINT handler");
    return;
  } catch (error) {
    const restart = restartFor(error, batch.plan);
    if (restart) throw restart;
    await tx.run("ROLLBACK TO SAVEPOINT handler; RELEASE SAVEPOINT handler");
    if (runs.length === 1) {
      batch.failures.set(runs[0]!.job.id, error instanceof Error ? error : new Error(String(error)));
      return;
    }
  }
  for (const run of runs) await runContained(batch, handler, [run]);
}

/** The deferred writes, each once with every item of the calls that succeeded; a deadlock here reruns the batch. */
async function writeAtCommit({ tx, atCommit, plan }: BatchRun): Promise<void> {
  for (const { write, items } of atCommit.values()) {
    await write(tx.handlerTx, items).catch((error: unknown) => {
      throw restartFor(error, plan) ?? error;
    });
  }
}

/** Collects one handler call's atCommit items; `keep` hands them to the batch once the call succeeded. */
function collector(batch: BatchRun) {
  const collected: [string, DeferredWrite][] = [];
  const atCommit: AtCommit = (key, items, write) => void collected.push([key, { write: write as DeferredWrite["write"], items: [...items] }]);
  const keep = () => {
    for (const [key, { write, items }] of collected) {
      const existing = batch.atCommit.get(key);
      if (existing) existing.items.push(...items);
      else batch.atCommit.set(key, { write, items });
    }
  };
  return { atCommit, keep };
}

/** The rerun a failure needs, or undefined when it is the handler's own failure to record. */
function restartFor(error: unknown, plan: Plan): Restart | undefined {
  if (error instanceof TimedOut) {
    const { runs } = error;
    return new Restart((next) => {
      if (runs.length > 1) for (const run of runs) next.alone.add(run.job.id);
      else next.excluded.set(runs[0]!.job.id, error.error);
    }, true);
  }
  if (isTransientError(error) && plan.transientLeft > 0) return new Restart((next) => void next.transientLeft--);
  return undefined;
}

/** Calls the handler: a batch handler once for all the runs, a single-event handler once per run. */
async function invoke(batch: BatchRun, handler: Exclude<EventHandler, { kind: "external" }>, runs: Run[]): Promise<void> {
  const { deps, tx } = batch;
  const { atCommit, keep } = collector(batch);
  const type = runs[0]!.event.type;
  const timeoutMs = deps.catalog.policyOf(type).timeoutMs;
  const timeout = (timed: Run[]) => () => new TimedOut(timed, new HandlerTimeoutError(type, timeoutMs));
  if (typeof handler === "object") {
    const events = runs.map((run) => run.event);
    const logger = deps.logger.child({ eventType: type, events: events.length });
    const context = { tx: tx.handlerTx, events, logger, atCommit, publish: (next: readonly AnyNewEvent[]) => deps.catalog.publishMany(tx, next) };
    await inBatchSpan(runs, () => withTimeout(handler.run(context as never), timeoutMs, timeout(runs)));
    keep();
    return;
  }
  for (const run of runs) {
    const { event } = run;
    let logger: Logger | undefined;
    const context = {
      tx: tx.handlerTx,
      event,
      // Made on first use: a child logger per event would cost more than most handlers.
      get logger() {
        return (logger ??= deps.logger.child({ eventId: event.id, eventType: event.type }));
      },
      atCommit,
      publish: (next: NewEvent) => deps.catalog.publish(tx, { ...next, causationId: next.causationId ?? event.id }),
    };
    await inEventSpan(run, () => withTimeout(handler(context as never), timeoutMs, timeout([run])));
  }
  keep();
}

export function toHandledEvent(catalog: EventCatalog, job: EventJob): HandledEvent {
  const { data } = job;
  return {
    id: job.id,
    type: data.type,
    payload: catalog.parse(data.type, data.payload) as unknown,
    aggregateType: data.aggregateType,
    aggregateId: data.aggregateId,
    tenantId: data.tenantId,
    attempt: attemptOf(job),
    createdAt: new Date(data.createdAt),
  };
}
