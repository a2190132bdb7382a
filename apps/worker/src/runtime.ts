import type { Env } from "@outbox/config";
import { sendToDeadLetter, startDeadLetterWorker } from "@outbox/dead-letter";
import { unorderedEventTypes } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import { postgresCheck, readinessOf, redisCheck, startHealthServer, watchPostgres, watchRedis, type DependencyWatch } from "@outbox/health";
import { createMetrics, type Metrics } from "@outbox/metrics";
import { EventProcessor, type HandlerMap, type Outcome } from "@outbox/processor";
import { createQueues, createRedis, watchQueueStore } from "@outbox/queues";
import { OutboxScanner, recoverLostJobs } from "@outbox/scanner";
import { startSchedules } from "@outbox/schedules";
import { Database } from "@outbox/sql";
import { collectStats, startStatsLog } from "@outbox/stats";

export interface WorkerOptions {
  config: Env;
  /** The handlers, or a function that makes them with this process's metrics (webhook hooks). */
  handlers: HandlerMap | ((context: { metrics: Metrics }) => HandlerMap);
  logger: Logger;
  onOutcome?: (type: string, outcome: Outcome) => void;
  /** Reports every committed batch of the processor (the bench counts statements per batch). */
  onBatch?: (batch: { events: number }) => void;
  /** Aborts a start still waiting for Postgres or Redis (a stop signal): startWorker then rejects with StartAbortedError. */
  signal?: AbortSignal;
}

/** The start was aborted while it waited for the stores: nothing had been relayed or consumed. */
export class StartAbortedError extends Error {
  readonly code = "WORKER_START_ABORTED";
  constructor() {
    super("the worker was stopped while it waited for Postgres and Redis");
    this.name = "StartAbortedError";
  }
}

export interface RunningWorker {
  /** The port of the health and metrics listener (WORKER_PORT, or the one picked for 0). */
  healthPort: number;
  /** The worker's pool, for companions that live and stop with it (the mailer). */
  db: Database;
  stop(): Promise<void>;
}

/**
 * The worker process: relay (read the outbox in commit order, queue jobs), processor (run
 * handlers), lost-job recovery, the dead-letter queue's worker, the scheduled jobs, the stats log
 * line, and the health and metrics listener. No Prisma: every statement goes through one `pg`
 * pool. `stop()` shuts down in a fixed order: stop relaying, let active jobs finish within
 * SHUTDOWN_TIMEOUT_MS, then close queues and connections.
 *
 * Postgres and Redis are watched (@outbox/health's watchDependency): one warning when either goes
 * away and one when it is back, instead of a line per retry from every component. At start the
 * health listener comes first, then the worker waits for both stores (one warning for a store that
 * is not up yet; /readyz names it), then starts relaying and consuming.
 */
export async function startWorker({ config, handlers, logger, onOutcome, onBatch, signal }: WorkerOptions): Promise<RunningWorker> {
  const db = new Database(config.DATABASE_URL, {
    poolSize: 10,
    applicationName: "outbox-worker",
    onIdleError: (error) => {
      if (!postgres.failed(error)) logger.warn({ err: error }, "an idle Postgres connection failed; the pool replaces it");
    },
  });
  const postgres: DependencyWatch = watchPostgres(db, config.DATABASE_URL, logger);
  const redisSettings = { url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) };
  const connection = createRedis(redisSettings, "worker");
  const probe = createRedis(redisSettings, "producer");
  const redis = watchRedis({ connections: [connection, probe], probeWith: probe, settings: redisSettings, logger });
  const queues = createQueues(connection, config.QUEUE_PREFIX);
  const checks = { postgres: postgresCheck(db), redis: redisCheck(probe) };
  const metrics = createMetrics({ stats: () => collectStats(db, queues), relay: true, readiness: () => readinessOf(checks) });
  const outcomeObservers = (type: string, outcome: Outcome) => {
    metrics.recordOutcome(type, outcome);
    statsLog.record(outcome);
    onOutcome?.(type, outcome);
  };

  const processor = new EventProcessor({
    db,
    queues,
    connection,
    handlers: typeof handlers === "function" ? handlers({ metrics }) : handlers,
    logger,
    concurrency: config.WORKER_CONCURRENCY,
    webhookConcurrency: config.WEBHOOK_CONCURRENCY,
    lockDurationMs: config.JOB_LOCK_MS,
    retryBackoffMs: config.RETRY_BACKOFF_MS,
    onOutcome: outcomeObservers,
    ...(onBatch ? { onBatch } : {}),
    deadLetter: {
      send: (entry) => sendToDeadLetter(queues, entry),
      remove: async (eventId) => {
        await queues.deadLetter.remove(eventId);
      },
    },
  });
  const relay = { db, queues, logger, unorderedTypes: unorderedEventTypes, retryBackoffMs: config.RETRY_BACKOFF_MS };
  const scanner = new OutboxScanner({
    ...relay,
    databaseUrl: config.DATABASE_URL,
    batchSize: config.SCAN_BATCH_SIZE,
    scanCron: config.SCAN_CRON,
    maxQueued: config.RELAY_MAX_QUEUED,
    onDispatched: (count) => metrics.recordDispatched(count),
    onStep: () => metrics.recordRelayStep(),
  });

  const health = await startHealthServer({ port: config.WORKER_PORT, host: config.HOST, checks, registry: metrics.registry });
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal?.aborted) resolve("aborted");
    signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  if ((await Promise.race([Promise.all([postgres.reachable(), redis.reachable()]), aborted])) === "aborted") {
    // Nothing was read or queued yet: drop the connections (a store that is away may never answer a close).
    redis.stop();
    postgres.stop();
    connection.disconnect();
    probe.disconnect();
    await health.close();
    await db.close();
    throw new StartAbortedError();
  }
  const statsLog = startStatsLog({ db, queues, logger, intervalMs: config.STATS_INTERVAL_MS });
  const deadLetterWorker = startDeadLetterWorker({ db, queues, connection, logger, retryBackoffMs: config.RETRY_BACKOFF_MS });
  await db.warm();
  // One rescue pass at a time: the interval's and the one a lost queue store asks for.
  let recovering: Promise<unknown> = Promise.resolve();
  const recover = () =>
    (recovering = recovering.then(() =>
      recoverLostJobs(relay).catch((error: unknown) => logger.error({ err: error }, "lost-job recovery failed; it runs again at the next interval")),
    ));
  await recover();
  processor.start();
  await scanner.start();
  const schedules = await startSchedules({ db, connection, prefix: config.QUEUE_PREFIX, config, logger });
  const recovery = setInterval(() => void recover(), config.RECOVERY_INTERVAL_MS);
  const storeWatch = watchQueueStore({
    connection,
    prefix: config.QUEUE_PREFIX,
    intervalMs: 1000,
    onLoss: () => {
      logger.warn("the queue store lost its data (Redis flushed, or restarted empty): queueing the pending events again and registering the schedules");
      void recover();
      schedules.register().catch((error: unknown) => logger.error({ err: error }, "could not register the schedules again; they are registered at the next start"));
    },
  });
  logger.info({ concurrency: config.WORKER_CONCURRENCY, queuePrefix: config.QUEUE_PREFIX, healthPort: health.port }, "worker started");

  return {
    healthPort: health.port,
    db,
    async stop() {
      clearInterval(recovery);
      storeWatch.stop();
      await scanner.stop();
      await recovering;
      await processor.close(config.SHUTDOWN_TIMEOUT_MS);
      await Promise.all([deadLetterWorker.close(), schedules.stop(), statsLog.stop()]);
      await health.close();
      await queues.close();
      redis.stop();
      postgres.stop();
      connection.disconnect();
      probe.disconnect();
      await db.close();
      logger.info("worker stopped");
    },
  };
}
