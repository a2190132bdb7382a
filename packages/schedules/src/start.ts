import { Queue, Worker, type Job } from "bullmq";
import type { Logger } from "@outbox/logger";
import { queuePrefix, type RedisConnection } from "@outbox/queues";
import type { Database } from "@outbox/sql";
import {
  isScheduleName,
  repeatOptionsFromConfig,
  scheduleNames,
  schedulesQueueName,
  type ScheduleConfig,
  type ScheduleName,
  type ScheduleRepeat,
} from "./definitions.ts";
import { expirePayments } from "./expire-payments.ts";
import { pruneOutbox } from "./prune-outbox.ts";
import { buildSettlement, previousUtcDay } from "./settlement.ts";

export interface StartSchedulesOptions {
  db: Database;
  /** A worker connection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  /** QUEUE_PREFIX; wrapped in a hash tag per queue on a Redis Cluster, like the other queues. */
  prefix: string;
  config: ScheduleConfig;
  logger: Logger;
  /** Replaces the configured timing of some schedules (tests tick every second). */
  repeat?: Partial<Record<ScheduleName, ScheduleRepeat>>;
  /** Called after each tick's job finished, with the tick's scheduled time. */
  onTick?: (tick: { schedule: ScheduleName; scheduledAt: Date; result: unknown }) => void;
}

export interface RunningSchedules {
  queue: Queue;
  /** Registers the schedulers again (idempotent): after Redis lost its data, they are gone with it. */
  register(): Promise<void>;
  stop(): Promise<void>;
}

const dayMs = 24 * 3600_000;

/**
 * Registers the job schedulers on the `schedules` queue and consumes it with one Worker.
 *
 * BullMQ keeps each scheduler in Redis under its id and produces one job per tick, with a job id
 * made of the scheduler id and the tick's time: however many processes call this, a tick is one
 * job and runs once. upsertJobScheduler updates in place, so a restart or a second instance never
 * adds a scheduler; the next tick's job already waits in Redis (delayed), so a restart does not
 * lose it either, and a tick that fell due while no worker ran is run when one comes back.
 * `stop()` closes the worker and queue but leaves the schedulers registered, for the next start.
 */
export async function startSchedules(options: StartSchedulesOptions): Promise<RunningSchedules> {
  const { connection, prefix, config, logger } = options;
  const cluster = "isCluster" in connection && connection.isCluster;
  const keyPrefix = queuePrefix(prefix, schedulesQueueName, cluster);
  const queue = new Queue(schedulesQueueName, { connection, prefix: keyPrefix });
  // It re-emits its connection's errors (BullMQ prints an unhandled one with its stack); the
  // connection's owner listens to the connection itself.
  queue.on("error", () => undefined);
  const repeat = { ...repeatOptionsFromConfig(config), ...options.repeat };
  const register = async () => {
    for (const name of scheduleNames) {
      await queue.upsertJobScheduler(name, repeat[name], {
        name,
        data: {},
        opts: { attempts: 3, backoff: { type: "exponential", delay: 5000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      });
    }
  };
  await register();

  const worker = new Worker(schedulesQueueName, (job) => runTick(options, job), { connection, prefix: keyPrefix, concurrency: 1 });
  worker.on("failed", (job, error) => logger.error({ err: error, schedule: job?.name, jobId: job?.id }, "scheduled job failed"));
  worker.on("error", (error) => logger.error({ err: error }, "schedules worker error"));
  logger.info({ schedules: repeat }, "schedules registered");

  return {
    queue,
    register,
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}

/** The time a tick was scheduled for (not when it ran): a late tick still reports on its own day. */
function scheduledAtOf(job: Job): Date {
  return new Date(job.opts.prevMillis ?? job.timestamp);
}

async function runTick(options: StartSchedulesOptions, job: Job): Promise<unknown> {
  const { db, config, logger } = options;
  if (!isScheduleName(job.name)) throw new Error(`unknown scheduled job ${job.name}`);
  const scheduledAt = scheduledAtOf(job);
  const started = Date.now();
  let result: Record<string, unknown>;
  switch (job.name) {
    case "payment-expiry": {
      const expired = await expirePayments(db, new Date(), { expireAfterMs: config.PAYMENT_EXPIRY_AFTER_MS });
      result = { expired: expired.length };
      break;
    }
    case "settlement": {
      const day = previousUtcDay(scheduledAt);
      const rows = await buildSettlement(db, day);
      result = { day, tenants: rows.length };
      break;
    }
    case "outbox-retention": {
      const olderThan = new Date(Date.now() - (config.OUTBOX_RETENTION_MS ?? config.OUTBOX_RETENTION_DAYS * dayMs));
      result = { deleted: await pruneOutbox(db, olderThan), olderThan: olderThan.toISOString() };
      break;
    }
  }
  logger.info({ schedule: job.name, scheduledAt: scheduledAt.toISOString(), durationMs: Date.now() - started, ...result }, "scheduled job done");
  options.onTick?.({ schedule: job.name, scheduledAt, result });
  return result;
}
