import { UnrecoverableError, Worker } from "bullmq";
import { queueNames } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { isSocketError, type DeadLetterJobData, type QueueSet, type RedisConnection } from "../queues/index.ts";
import type { Database } from "../sql/index.ts";
import { DeadLetterError, retryDead } from "./operations.ts";
import { ReleaseNotQueuedError } from "./release.ts";

/**
 * The dead-letter queue's worker. A new entry fails at once with the event's last error, so Bull
 * Board lists it under "failed" with the reason. When an admin presses retry there, the job runs
 * again (attemptsMade > 0) and this worker retries the event itself: pending again, its job queued.
 */
export function startDeadLetterWorker(options: {
  db: Database;
  queues: QueueSet;
  connection: RedisConnection;
  logger: Logger;
  /** RETRY_BACKOFF_MS, for the jobs of retried events. */
  retryBackoffMs?: number | undefined;
}): Worker<DeadLetterJobData> {
  const { db, queues, connection, logger, retryBackoffMs } = options;
  const worker = new Worker<DeadLetterJobData>(
    queueNames.deadLetter,
    async (job) => {
      if (job.attemptsMade === 0) throw new UnrecoverableError(job.data.error);
      const eventId = job.data.eventId;
      try {
        await retryDead(db, queues, eventId, { keepDeadLetterJob: true, retryBackoffMs });
        logger.info({ eventId }, "dead event retried from the dead-letter queue");
      } catch (error) {
        if (error instanceof ReleaseNotQueuedError) logger.warn({ eventId, err: error }, "dead event retried; its job is left to the rescuer");
        else if (error instanceof DeadLetterError) logger.info({ eventId, reason: error.message }, "dead-letter retry found nothing to retry");
        else throw error;
      }
    },
    { connection, prefix: queues.prefixOf(queueNames.deadLetter), concurrency: 1 },
  );
  worker.on("error", (error) => {
    // Its Redis socket failed: the Redis watch reports the outage once, from the reconnect.
    if (isSocketError(error)) logger.debug({ err: error }, "redis socket failed");
    else logger.error({ err: error }, "dead-letter worker error");
  });
  return worker;
}
