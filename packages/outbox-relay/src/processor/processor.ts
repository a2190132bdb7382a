import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import { queueNames, type EventPolicy, type WorkQueue } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { findRunnableHeads, type AggregateRef } from "../outbox/index.ts";
import {
  backoffStrategy,
  batchJobName,
  enqueueEvents,
  forgetBatchMembers,
  groupByQueue,
  isSocketError,
  ownJobOf,
  retryAfterOf,
  type BatchedEvent,
  type BatchJobData,
  type EventJobData,
  type QueueSet,
  type RedisConnection,
} from "../queues/index.ts";
import type { Database } from "../sql/index.ts";
import type { BeginBatch } from "./batch-transaction.ts";
import { CommitGroup } from "./commit-group.ts";
import { isExternal, type AnyHandlerMap, type EventHandler } from "./handler.ts";
import type { EventJob, Outcome } from "./outcome.ts";
import { runBatch } from "./run-batch.ts";
import { runExternal } from "./run-external.ts";
import { putBackUnknownType } from "./unknown-type.ts";

export interface ProcessorOptions {
  db: Database;
  queues: QueueSet;
  /** A worker connection (maxRetriesPerRequest: null); BullMQ duplicates it for blocking reads. */
  connection: RedisConnection;
  handlers: AnyHandlerMap;
  logger: Logger;
  /** Opens each batch's transaction; default: on db's pool (prismaTransactions: in the service's Prisma client). */
  begin?: BeginBatch | undefined;
  /** Jobs in progress per queue; the webhooks queue's, when given, applies to it alone. */
  concurrency: number;
  webhookConcurrency?: number;
  /** BullMQ's job lock: a job whose worker stopped renewing it for this long runs elsewhere. */
  lockDurationMs: number;
  maxBatchSize?: number;
  maxBatchesInFlight?: number;
  /** Overrides every type's first retry delay, for the jobs of released events (RETRY_BACKOFF_MS). */
  retryBackoffMs?: number | undefined;
  /** Reports every run's outcome (metrics, stats). */
  onOutcome?: (type: string, outcome: Outcome) => void;
  /** Reports every committed batch: its size (the bench counts statements per batch). */
  onBatch?: (batch: { events: number }) => void;
  /** Puts a dead event into the dead-letter queue, or takes a handled one out of it. */
  deadLetter: {
    send(entry: { eventId: string; type: string; queue: WorkQueue; error: string }): Promise<void>;
    remove(eventId: string): Promise<void>;
  };
}

/**
 * Consumes the work queues. Transactional handlers of concurrent jobs commit in groups (one
 * transaction per batch); external handlers (webhooks) run one by one with no transaction open.
 * When an ordered event is handled, the event of its aggregate it held back is queued.
 */
/** BullMQ's error when a job's keys are gone as the worker completes or retries it ("Missing key for job 42. moveToFinished"). */
const lostJob = /^Missing key for job /;

export class EventProcessor {
  private readonly workers: Worker<EventJobData | BatchJobData>[] = [];
  private readonly group: CommitGroup<EventJob, Outcome>;

  constructor(private readonly options: ProcessorOptions) {
    const { maxBatchSize = 500, maxBatchesInFlight = 2 } = options;
    this.group = new CommitGroup((jobs) => this.commitBatch(jobs), maxBatchSize, maxBatchesInFlight);
  }

  start(queues: WorkQueue[] = [queueNames.events, queueNames.webhooks]): void {
    const { connection, concurrency, lockDurationMs, logger } = this.options;
    for (const name of queues) {
      const worker = new Worker<EventJobData | BatchJobData>(name, (job, token) => this.process(name, job, token), {
        connection,
        prefix: this.options.queues.prefixOf(name),
        concurrency: name === queueNames.webhooks ? (this.options.webhookConcurrency ?? concurrency) : concurrency,
        // The lock is renewed every half of it while the job runs; a worker that died stops
        // renewing, and another one's stalled check takes the job back within about twice the lock.
        lockDuration: lockDurationMs,
        stalledInterval: Math.max(500, lockDurationMs / 2),
        maxStalledCount: 2,
        // Exponential retries that honour a failure's retryAfterMs (a receiver's Retry-After).
        settings: { backoffStrategy },
      });
      worker.on("error", (error) => {
        // A job whose Redis keys vanished under it (Redis flushed or restarted empty while it
        // ran): nothing to do here; the lost-data line says so once and the rescue pass queues it again.
        if (lostJob.test(error.message)) logger.debug({ err: error, queue: name }, "a running job's Redis keys are gone");
        // Its Redis socket failed: the Redis watch reports the outage once, from the reconnect.
        else if (isSocketError(error)) logger.debug({ err: error, queue: name }, "redis socket failed");
        else logger.error({ err: error, queue: name }, "worker error");
      });
      this.workers.push(worker);
    }
  }

  /**
   * Stops taking jobs and waits for the active ones to finish, up to the bound; past it, closes
   * at once: unfinished jobs' transactions roll back and their jobs run again elsewhere.
   */
  async close(timeoutMs: number): Promise<void> {
    const graceful = Promise.all(this.workers.map((worker) => worker.close()));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const result = await Promise.race([graceful, bound]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.options.logger.warn({ timeoutMs }, "active jobs did not finish in time; closing workers at once");
      await Promise.all(this.workers.map((worker) => worker.close(true)));
    }
    await Promise.all(this.releases);
  }

  private async commitBatch(jobs: EventJob[]): Promise<Outcome[]> {
    const { db, handlers, logger, onBatch, begin } = this.options;
    const unique = oncePerEvent(jobs);
    const outcomes = await runBatch({ db, catalog: this.options.queues.catalog, handlers, logger, begin }, unique);
    onBatch?.({ events: unique.length });
    const byJob = new Map(unique.map((job, index) => [job, outcomes[index]!]));
    // Not awaited: the next batch need not wait for it, and the jobs are done either way.
    this.track(this.releaseHeld(unique.filter((job) => byJob.get(job)!.kind === "handled")));
    return jobs.map((job) => byJob.get(job) ?? { kind: "skipped" });
  }

  /** Releases still under way; close() waits for them. */
  private readonly releases = new Set<Promise<void>>();

  private track(release: Promise<void>): void {
    this.releases.add(release);
    void release.finally(() => this.releases.delete(release));
  }

  /**
   * Queues the next event of each handled event's aggregate, which waited for it. Runs after the
   * commit (a read before it could miss an event committed in between). A failure here loses
   * nothing: the rescuer queues any runnable row whose job is missing.
   */
  private async releaseHeld(handled: EventJob[]): Promise<void> {
    const { db, queues, logger, retryBackoffMs } = this.options;
    const aggregates: AggregateRef[] = handled
      .filter((job) => job.data.ordered ?? queues.catalog.policyOf(job.data.type).ordered)
      .map((job) => ({ aggregateType: job.data.aggregateType, aggregateId: job.data.aggregateId }));
    if (aggregates.length === 0) return;
    try {
      await enqueueEvents(queues, await findRunnableHeads(db, aggregates), { backoffMs: retryBackoffMs });
    } catch (error) {
      logger.error({ err: error }, "could not queue the events held behind a handled batch; the rescuer will");
    }
  }

  private async process(queue: WorkQueue, job: Job<EventJobData | BatchJobData>, token: string | undefined): Promise<void> {
    if (job.name === batchJobName && "events" in job.data) return this.processBatch(queue, job as Job<BatchJobData>);
    return this.processEvent(queue, job as Job<EventJobData>, token);
  }

  private async processEvent(queue: WorkQueue, job: Job<EventJobData>, token: string | undefined): Promise<void> {
    const { handlers, db, queues, logger, onOutcome } = this.options;
    if (!queues.catalog.has(job.data.type)) return putBackUnknownType(job, token);
    const item: EventJob = {
      id: job.id!,
      data: job.data,
      attemptsMade: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      firstDelayMs: typeof job.opts.backoff === "object" ? (job.opts.backoff.delay ?? 0) : 0,
      pendingOnly: job.attemptsMade === 0,
    };
    const { failedInBatch } = job.data;
    // Until BullMQ has counted it, its take replays the batch's failure (already recorded in
    // Postgres): BullMQ counts the attempt and backs off as if the event had run alone. A retry runs it.
    if (failedInBatch && job.attemptsMade === 0) return this.settle(queue, item, replayed(failedInBatch));
    const handler = handlers[job.data.type] as EventHandler | undefined;
    let outcome: Outcome;
    if (isExternal(handler)) {
      const run = await runExternal({ db, catalog: queues.catalog, logger }, handler, item);
      if (run.kind === "deferred") return defer(job, token, run.delayMs);
      outcome = run;
      if (outcome.kind === "handled") await this.releaseHeld([item]);
    } else {
      outcome = await this.group.submit(item);
    }
    onOutcome?.(job.data.type, outcome);
    if (outcome.kind === "retry") await this.retryBelowFirstAttempts(job);
    return this.settle(queue, item, outcome);
  }

  /** A type whose retries have a priority of their own (webhook deliveries) retries at it: BullMQ keeps it when the job comes back from delayed. */
  private async retryBelowFirstAttempts(job: Job<EventJobData>): Promise<void> {
    const { retryPriority } = this.options.queues.catalog.policyOf(job.data.type);
    if (job.opts.priority === retryPriority) return;
    await job.changePriority({ priority: retryPriority }).catch((error: unknown) => this.options.logger.debug({ err: error, jobId: job.id }, "could not lower a retried job's priority"));
  }

  /**
   * A batch job's events go into the commit group together and commit as one-event jobs do. Each
   * that fails leaves the batch as a job of its own, whose first take replays the failure, so that
   * every failing or dead event is one job (its attempts and backoff, its place in Bull Board and
   * the dead-letter queue) while the rest of the batch commits. Events this worker cannot run in a
   * batch (an unknown type, an external handler) leave it as plain jobs of their own.
   */
  private async processBatch(queue: WorkQueue, job: Job<BatchJobData>): Promise<void> {
    const { handlers, queues, onOutcome, retryBackoffMs } = this.options;
    const { events } = job.data;
    const runsHere = (event: BatchedEvent) => queues.catalog.has(event.type) && !isExternal(handlers[event.type] as EventHandler | undefined);
    const policyOf = (event: BatchedEvent) => queues.catalog.policyOf(event.type);
    const inBatch = events.filter(runsHere);
    const settled = await Promise.allSettled(inBatch.map((event) => this.group.submit(batchedItem(event, policyOf(event), retryBackoffMs))));
    const leaving = events.filter((event) => !runsHere(event)).map((event) => ownJobOf(event, policyOf(event), retryBackoffMs));
    inBatch.forEach((event, index) => {
      const result = settled[index]!;
      if (result.status === "rejected") return;
      onOutcome?.(event.type, result.value);
      if (result.value.kind === "retry" || result.value.kind === "dead") leaving.push(ownJobOf(event, policyOf(event), retryBackoffMs, failureOf(result.value)));
    });
    await addOwnJobs(queues, leaving);
    // A transaction that could not commit (the database away past the wait): the batch keeps only
    // the events it did not settle, and fails; BullMQ runs it again with those.
    const unsettled = inBatch.filter((_, index) => settled[index]!.status === "rejected");
    const done = events.filter((event) => !unsettled.includes(event));
    await forgetBatchMembers(queues.connection, queues[queue], job.id!, done.map((event) => event.id));
    if (unsettled.length > 0) {
      await job.updateData({ events: unsettled });
      throw (settled.find((result) => result.status === "rejected") as PromiseRejectedResult).reason;
    }
  }

  /** What an outcome leaves to the job: a retry throws its error; a dead event goes to the dead-letter queue. */
  private async settle(queue: WorkQueue, item: EventJob, outcome: Outcome): Promise<void> {
    const { logger, deadLetter } = this.options;
    if (outcome.kind === "handled" && outcome.wasDead) await deadLetter.remove(item.id).catch(() => undefined);
    if (outcome.kind === "retry") throw outcome.error;
    if (outcome.kind === "dead") {
      logger.warn({ eventId: item.id, eventType: item.data.type, err: outcome.error }, "event is dead; moved to the dead-letter queue");
      await deadLetter.send({ eventId: item.id, type: item.data.type, queue, error: outcome.error.message }).catch((error: unknown) =>
        logger.error({ err: error, eventId: item.id }, "could not add the dead event to the dead-letter queue; it stays dead in Postgres"),
      );
      throw new UnrecoverableError(outcome.error.message);
    }
  }
}

/**
 * Puts a job back to delayed until `delayMs` from now without spending an attempt (BullMQ's
 * moveToDelayed skips the attempt count), then tells the worker so with DelayedError.
 */
async function defer(job: Job<EventJobData>, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** A batch member as the commit group runs it: its first attempt in this dispatch, pending rows only. */
function batchedItem(event: BatchedEvent, policy: EventPolicy, backoffMs: number | undefined): EventJob {
  const maxAttempts = Math.max(1, policy.attempts - event.previousAttempts);
  return { id: event.id, data: event, attemptsMade: 0, maxAttempts, firstDelayMs: backoffMs ?? policy.backoffMs, pendingOnly: true };
}

function failureOf(outcome: Extract<Outcome, { kind: "retry" | "dead" }>) {
  const { error } = outcome;
  return { message: error.message, stack: error.stack, dead: outcome.kind === "dead", retryAfterMs: retryAfterOf(error) ?? undefined };
}

/** The outcome a batch recorded, for the event's own job to end its first attempt with. */
function replayed(failure: NonNullable<EventJobData["failedInBatch"]>): Outcome {
  const error = Object.assign(new Error(failure.message), failure.retryAfterMs ? { retryAfterMs: failure.retryAfterMs } : {});
  if (failure.stack) error.stack = failure.stack;
  return { kind: failure.dead ? "dead" : "retry", error, durationMs: 0 };
}

/**
 * One event in two jobs at once (a batch and its own job, two batches) runs once: the first copy
 * stays, the others are skipped (as a second run would be). It may run a dead row only if every
 * copy may.
 */
function oncePerEvent(jobs: EventJob[]): EventJob[] {
  const first = new Map<string, EventJob>();
  for (const job of jobs) {
    const kept = first.get(job.id);
    if (!kept) first.set(job.id, job);
    else if (job.pendingOnly) kept.pendingOnly = true;
  }
  return [...first.values()];
}

/**
 * Adds the jobs of events that leave a batch. A job of the same id (the event's) may still be kept
 * as completed or failed from an earlier run: it is removed first, or BullMQ would add nothing. A
 * live one stays: it runs the event.
 */
async function addOwnJobs(queues: QueueSet, jobs: ReturnType<typeof ownJobOf>[]): Promise<void> {
  for (const [name, group] of groupByQueue(queues.catalog, jobs, (job) => job.name)) {
    const queue = queues[name];
    const states = await Promise.all(group.map((job) => queue.getJobState(job.opts.jobId!)));
    await Promise.all(group.filter((_, index) => states[index] === "completed" || states[index] === "failed").map((job) => queue.remove(job.opts.jobId!)));
    await queue.addBulk(group);
  }
}
