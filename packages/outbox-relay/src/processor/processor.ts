import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import { queueNames, type WorkQueue } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { findRunnableHeads, type AggregateRef } from "../outbox/index.ts";
import { backoffStrategy, enqueueEvents, isSocketError, type EventJobData, type QueueSet, type RedisConnection } from "../queues/index.ts";
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
 * When an event of an ordered type is handled, the event of its aggregate it held back is queued.
 */
/** BullMQ's error when a job's keys are gone as the worker completes or retries it ("Missing key for job 42. moveToFinished"). */
const lostJob = /^Missing key for job /;

export class EventProcessor {
  private readonly workers: Worker<EventJobData>[] = [];
  private readonly group: CommitGroup<EventJob, Outcome>;

  constructor(private readonly options: ProcessorOptions) {
    const { maxBatchSize = 500, maxBatchesInFlight = 2 } = options;
    this.group = new CommitGroup((jobs) => this.commitBatch(jobs), maxBatchSize, maxBatchesInFlight);
  }

  start(queues: WorkQueue[] = [queueNames.events, queueNames.webhooks]): void {
    const { connection, concurrency, lockDurationMs, logger } = this.options;
    for (const name of queues) {
      const worker = new Worker<EventJobData>(name, (job, token) => this.process(name, job, token), {
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
    const outcomes = await runBatch({ db, catalog: this.options.queues.catalog, handlers, logger, begin }, jobs);
    onBatch?.({ events: jobs.length });
    // Not awaited: the next batch need not wait for it, and the jobs are done either way.
    this.track(this.releaseHeld(jobs.filter((_, index) => outcomes[index]!.kind === "handled")));
    return outcomes;
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
      .filter((job) => queues.catalog.policyOf(job.data.type).ordered)
      .map((job) => ({ aggregateType: job.data.aggregateType, aggregateId: job.data.aggregateId }));
    if (aggregates.length === 0) return;
    try {
      await enqueueEvents(queues, await findRunnableHeads(db, aggregates), retryBackoffMs);
    } catch (error) {
      logger.error({ err: error }, "could not queue the events held behind a handled batch; the rescuer will");
    }
  }

  private async process(queue: WorkQueue, job: Job<EventJobData>, token: string | undefined): Promise<void> {
    const { handlers, db, queues, logger, onOutcome, deadLetter } = this.options;
    if (!queues.catalog.has(job.data.type)) return putBackUnknownType(job, token);
    const item: EventJob = { id: job.id!, data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 };
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

    if (outcome.kind === "handled" && outcome.wasDead) await deadLetter.remove(item.id).catch(() => undefined);
    if (outcome.kind === "retry") throw outcome.error;
    if (outcome.kind === "dead") {
      logger.warn({ eventId: item.id, eventType: job.data.type, err: outcome.error }, "event is dead; moved to the dead-letter queue");
      await deadLetter.send({ eventId: item.id, type: job.data.type, queue, error: outcome.error.message }).catch((error: unknown) =>
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
