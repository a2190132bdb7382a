import { UnrecoverableError, Worker } from "bullmq";
import type { PrismaClient } from "@outbox/db";
import { queueNames } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import type { DeadLetterJobData, QueueSet, RedisConnection } from "@outbox/queues";
import { DeadLetterError, retryDead } from "./operations.ts";

/**
 * The dead-letter queue's worker. A new entry fails at once with the event's last error, so Bull
 * Board lists it under "failed" with the reason. When an admin presses retry there, the job runs
 * again (attemptsMade > 0) and this worker retries the event itself.
 */
export function startDeadLetterWorker(options: {
  prisma: PrismaClient;
  queues: QueueSet;
  connection: RedisConnection;
  logger: Logger;
}): Worker<DeadLetterJobData> {
  const { prisma, queues, connection, logger } = options;
  const worker = new Worker<DeadLetterJobData>(
    queueNames.deadLetter,
    async (job) => {
      if (job.attemptsMade === 0) throw new UnrecoverableError(job.data.error);
      try {
        await retryDead(prisma, queues, job.data.eventId, { keepDeadLetterJob: true });
        logger.info({ eventId: job.data.eventId }, "dead event retried from the dead-letter queue");
      } catch (error) {
        if (!(error instanceof DeadLetterError)) throw error;
        logger.info({ eventId: job.data.eventId, reason: error.message }, "dead-letter retry found nothing to retry");
      }
    },
    { connection, prefix: queues.prefixOf(queueNames.deadLetter), concurrency: 1 },
  );
  worker.on("error", (error) => logger.error({ err: error }, "dead-letter worker error"));
  return worker;
}
