import type { Env } from "@outbox/config";
import { createPrisma } from "@outbox/db";
import { sendToDeadLetter, startDeadLetterWorker } from "@outbox/dead-letter";
import type { Logger } from "@outbox/logger";
import { EventProcessor, type HandlerMap, type Outcome } from "@outbox/processor";
import { createQueues, createRedis } from "@outbox/queues";
import { OutboxScanner, recoverLostJobs } from "@outbox/scanner";

export interface WorkerOptions {
  config: Env;
  handlers: HandlerMap;
  logger: Logger;
  onOutcome?: (type: string, outcome: Outcome) => void;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * The worker process: scanner (claim and enqueue), processor (run handlers), lost-job recovery and
 * the dead-letter queue's worker. `stop()` shuts down in a fixed order: stop claiming, let active
 * jobs finish within SHUTDOWN_TIMEOUT_MS, then close queues and connections.
 */
export async function startWorker({ config, handlers, logger, onOutcome }: WorkerOptions): Promise<RunningWorker> {
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: 10 });
  const redis = { url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) };
  const connection = createRedis(redis, "worker");
  const queues = createQueues(connection, config.QUEUE_PREFIX);

  const processor = new EventProcessor({
    prisma,
    queues,
    connection,
    handlers,
    logger,
    concurrency: config.WORKER_CONCURRENCY,
    lockDurationMs: config.JOB_LOCK_MS,
    ...(onOutcome ? { onOutcome } : {}),
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
  let recovering: Promise<unknown> = Promise.resolve();
  const recovery = setInterval(() => {
    recovering = recover();
  }, config.RECOVERY_INTERVAL_MS);
  logger.info({ concurrency: config.WORKER_CONCURRENCY, queuePrefix: config.QUEUE_PREFIX }, "worker started");

  return {
    async stop() {
      clearInterval(recovery);
      await scanner.stop();
      await recovering;
      await processor.close(config.SHUTDOWN_TIMEOUT_MS);
      await deadLetterWorker.close();
      await queues.close();
      connection.disconnect();
      await prisma.$disconnect();
      logger.info("worker stopped");
    },
  };
}
