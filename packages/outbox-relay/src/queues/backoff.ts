import type { BackoffStrategy } from "bullmq";

/**
 * The backoff type of every event job: exponential (the first delay, doubled for each later
 * retry), except that a failure carrying a `retryAfterMs` hint (a webhook receiver's
 * `Retry-After`) waits at least that long, up to the schedule's longest delay, and a failure that
 * names its exact wait (`retryDelayMs`: a handler with a schedule of its own) waits that. BullMQ calls the
 * worker's `settings.backoffStrategy` for any type it does not know, so the processor's workers
 * pass `backoffStrategy` below.
 */
export const eventBackoffType = "outbox-exponential";

/** What a retryable error may carry to ask for a later retry than the schedule's next one. */
export interface RetryAfterHint {
  retryAfterMs: number;
}

/** What a retryable error may carry when its handler keeps a schedule of its own (webhook deliveries): the exact wait. */
export interface RetryDelay {
  retryDelayMs: number;
}

const positive = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null);

export function retryAfterOf(error: unknown): number | null {
  return positive((error as Partial<RetryAfterHint> | null | undefined)?.retryAfterMs);
}

export function retryDelayOf(error: unknown): number | null {
  const delay = (error as Partial<RetryDelay> | null | undefined)?.retryDelayMs;
  return delay === 0 ? 0 : positive(delay);
}

/**
 * The delay before the next run, after `failedRuns` failed runs (1 after the first failure) of a
 * job with `maxAttempts` runs whose first retry waits `firstDelayMs`. The schedule's longest delay
 * is the one before the last run; a hint never asks for more than that, nor gives less than the
 * schedule's own delay.
 */
export function retryDelayMs({ failedRuns, firstDelayMs, maxAttempts, retryAfterMs }: {
  failedRuns: number;
  firstDelayMs: number;
  maxAttempts: number;
  retryAfterMs: number | null;
}): number {
  const scheduled = Math.round(firstDelayMs * 2 ** Math.max(0, failedRuns - 1));
  if (retryAfterMs === null) return scheduled;
  const longest = Math.round(firstDelayMs * 2 ** Math.max(0, maxAttempts - 2));
  return Math.max(scheduled, Math.min(Math.ceil(retryAfterMs), longest));
}

/** What the delay of a job's next run depends on: the runs its event used before this job, and the job's own. */
export interface RetryingJob {
  previousAttempts: number;
  attemptsMade: number;
  maxAttempts: number;
  firstDelayMs: number;
}

/**
 * The wait before a job's next run after `error`: the error's own (RetryDelay) when it names one,
 * else the exponential schedule counted over every run of the event, not only this job's (a job
 * queued again after Redis lost the first continues its schedule).
 */
export function nextRunDelayMs({ previousAttempts, attemptsMade, maxAttempts, firstDelayMs }: RetryingJob, error: unknown): number {
  return (
    retryDelayOf(error) ??
    retryDelayMs({ failedRuns: previousAttempts + attemptsMade, firstDelayMs, maxAttempts: previousAttempts + maxAttempts, retryAfterMs: retryAfterOf(error) })
  );
}

export const backoffStrategy: BackoffStrategy = (attemptsMade, _type, error, job) =>
  nextRunDelayMs(
    {
      previousAttempts: (job?.data as { previousAttempts?: number } | undefined)?.previousAttempts ?? 0,
      attemptsMade,
      maxAttempts: job?.opts.attempts ?? 1,
      firstDelayMs: job?.opts.backoff && typeof job.opts.backoff === "object" ? (job.opts.backoff.delay ?? 0) : 0,
    },
    error,
  );
