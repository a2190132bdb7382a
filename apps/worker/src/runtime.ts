import type { Env } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { sendToDeadLetter, startDeadLetterWorker } from "@outbox/dead-letter";
import type { Logger } from "@outbox/logger";
import { postgresCheck, redisCheck, startHealthServer } from "@outbox/health";
import { createMetrics, type Metrics } from "@outbox/metrics";
import { EventProcessor, type HandlerMap, type Outcome } from "@outbox/processor";
import { createQueues, createRedis } from "@outbox/queues";
import { OutboxScanner, recoverLostJobs } from "@outbox/scanner";
import { startSchedules } from "@outbox/schedules";
import { collectStats, startStatsLog } from "@outbox/stats";

export interface WorkerOptions {
  config: Env;
  /** The handlers, or a function that makes them with this process's metrics (webhook hooks). */
  handlers: HandlerMap | ((context: { metrics: Metrics }) => HandlerMap);
  logger: Logger;
  onOutcome?: (type: string, outcome: Outcome) => void;
}

export interface RunningWorker {
  /** The port of the health and metrics listener (WORKER_PORT, or the one picked for 0). */
  healthPort: number;
  /** The worker's Prisma client, for companions that live and stop with it (the mailer). */
  prisma: PrismaClient;
  stop(): Promise<void>;
}

/**
 * The worker process: scanner (claim and enqueue), processor (run handlers), lost-job recovery, the
 * dead-letter queue's worker, the scheduled jobs, the stats log line, and the health and metrics
 * listener. `stop()` shuts down in a fixed order: stop claiming, let active
 * jobs finish within SHUTDOWN_TIMEOUT_MS, then close queues and connections.
 */
export async function startWorker({ config, handlers, logger, onOutcome }: WorkerOptions): Promise<RunningWorker> {
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: 10 });
  const redis = { url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) };
  const connection = createRedis(redis, "worker");
  const probe = createRedis(redis, "producer");
  const queues = createQueues(connection, config.QUEUE_PREFIX);
  const metrics = createMetrics({ stats: () => collectStats(prisma, queues) });
  const statsLog = startStatsLog({ prisma, queues, logger, intervalMs: config.STATS_INTERVAL_MS });
  const outcomeObservers = (type: string, outcome: Outcome) => {
    metrics.recordOutcome(type, outcome);
    statsLog.record(outcome);
    onOutcome?.(type, outcome);
  };

  const processor = new EventProcessor({
    prisma,
    queues,
    connection,
    handlers: typeof handlers === "function" ? handlers({ metrics }) : handlers,
    logger,
    concurrency: config.WORKER_CONCURRENCY,
    webhookConcurrency: config.WEBHOOK_CONCURRENCY,
    lockDurationMs: config.JOB_LOCK_MS,
    onOutcome: outcomeObservers,
    deadLetter: {
      send: (entry) => sendToDeadLetter(queues, entry),
      remove: async (eventId) => {
        await queues.deadLetter.remove(eventId);
      },
    },
  });
  const deadLetterWorker = startDeadLetterWorker({ prisma, queues, connection, logger });
  const scanner = new OutboxScanner({
    prisma,
    queues,
    logger,
    databaseUrl: config.DATABASE_URL,
    batchSize: config.SCAN_BATCH_SIZE,
    scanCron: config.SCAN_CRON,
    retryBackoffMs: config.RETRY_BACKOFF_MS,
  });

  const recover = () =>
    recoverLostJobs({ prisma, queues, logger, graceMs: config.RECOVERY_GRACE_MS }).catch((error: unknown) =>
      logger.error({ err: error }, "lost-job recovery failed; it runs again at the next interval"),
    );
  await recover();
  processor.start();
  await scanner.start();
  const schedules = await startSchedules({ prisma, connection, prefix: config.QUEUE_PREFIX, config, logger });
  const health = await startHealthServer({
    port: config.WORKER_PORT,
    host: config.HOST,
    checks: { postgres: postgresCheck(prisma), redis: redisCheck(probe) },
    registry: metrics.registry,
  });
  let recovering: Promise<unknown> = Promise.resolve();
  const recovery = setInterval(() => {
    recovering = recover();
  }, config.RECOVERY_INTERVAL_MS);
  logger.info({ concurrency: config.WORKER_CONCURRENCY, queuePrefix: config.QUEUE_PREFIX, healthPort: health.port }, "worker started");

  return {
    healthPort: health.port,
    prisma,
    async stop() {
      clearInterval(recovery);
      await scanner.stop();
      await recovering;
      await processor.close(config.SHUTDOWN_TIMEOUT_MS);
      await Promise.all([deadLetterWorker.close(), schedules.stop(), statsLog.stop()]);
      await health.close();
      await queues.close();
      connection.disconnect();
      probe.disconnect();
      await prisma.$disconnect();
      logger.info("worker stopped");
    },
  };
}
