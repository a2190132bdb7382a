import { Queue, Worker, type Job, type RepeatOptions } from "bullmq";
import type { Logger } from "../logger/index.ts";
import { isSocketError, queuePrefix, type RedisConnection } from "../queues/index.ts";
import type { Database } from "../sql/index.ts";

export const schedulesQueueName = "schedules";

export type ScheduleRepeat = Omit<RepeatOptions, "key">;

/** A job that runs on a timetable, once per tick across every worker process. */
export interface Schedule {
  /** The job scheduler's id and its jobs' name: stable across deploys. */
  name: string;
  /** When it ticks: a cron `pattern` (read in UTC with `tz: "UTC"`) or `every` ms. */
  repeat: ScheduleRepeat;
  /** One tick's work, given the time the tick was scheduled for; the figures it returns are logged. */
  run(tick: { db: Database; scheduledAt: Date }): Promise<Record<string, unknown> | void>;
}

export interface StartSchedulesOptions {
  db: Database;
  /** A worker connection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  /** QUEUE_PREFIX; wrapped in a hash tag per queue on a Redis Cluster, like the other queues. */
  prefix: string;
  schedules: readonly Schedule[];
  logger: Logger;
  /** Called after each tick's job finished, with the tick's scheduled time. */
  onTick?: (tick: { schedule: string; scheduledAt: Date; result: unknown }) => void;
}

export interface RunningSchedules {
  queue: Queue;
  /** Registers the schedulers again (idempotent): after Redis lost its data, they are gone with it. */
  register(): Promise<void>;
  stop(): Promise<void>;
}

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
  const { connection, prefix, schedules, logger } = options;
  const cluster = "isCluster" in connection && connection.isCluster;
  const keyPrefix = queuePrefix(prefix, schedulesQueueName, cluster);
  const queue = new Queue(schedulesQueueName, { connection, prefix: keyPrefix });
  // It re-emits its connection's errors (BullMQ prints an unhandled one with its stack); the
  // connection's owner listens to the connection itself.
  queue.on("error", () => undefined);
  const register = async () => {
    for (const { name, repeat } of schedules) {
      await queue.upsertJobScheduler(name, repeat, {
        name,
        data: {},
        opts: { attempts: 3, backoff: { type: "exponential", delay: 5000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      });
    }
  };
  await register();

  const worker = new Worker(schedulesQueueName, (job) => runTick(options, job), { connection, prefix: keyPrefix, concurrency: 1 });
  worker.on("failed", (job, error) => logger.error({ err: error, schedule: job?.name, jobId: job?.id }, "scheduled job failed"));
  worker.on("error", (error) => {
    // Its Redis socket failed: the Redis watch reports the outage once, from the reconnect.
    if (isSocketError(error)) logger.debug({ err: error }, "redis socket failed");
    else logger.error({ err: error }, "schedules worker error");
  });
  logger.info({ schedules: Object.fromEntries(schedules.map(({ name, repeat }) => [name, repeat])) }, "schedules registered");

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

async function runTick({ db, schedules, logger, onTick }: StartSchedulesOptions, job: Job): Promise<unknown> {
  // A scheduler an older deploy registered and this one no longer has: its job fails, visibly.
  const schedule = schedules.find((s) => s.name === job.name);
  if (!schedule) throw new Error(`unknown scheduled job ${job.name}`);
  const scheduledAt = scheduledAtOf(job);
  const started = Date.now();
  const result = await schedule.run({ db, scheduledAt });
  logger.info({ schedule: job.name, scheduledAt: scheduledAt.toISOString(), durationMs: Date.now() - started, ...(result ?? {}) }, "scheduled job done");
  onTick?.({ schedule: job.name, scheduledAt, result });
  return result;
}
