import type { BackoffStrategy } from "bullmq";

/**
 * The backoff type of every event job: exponential (the first delay, doubled for each later
 * retry), except that a failure carrying a `retryAfterMs` hint (a webhook receiver's
 * `Retry-After`) waits at least that long, up to the schedule's longest delay. BullMQ calls the
 * worker's `settings.backoffStrategy` for any type it does not know, so the processor's workers
 * pass `backoffStrategy` below.
 */
export const eventBackoffType = "outbox-exponential";

/** What a retryable error may carry to ask for a later retry than the schedule's next one. */
export interface RetryAfterHint {
  retryAfterMs: number;
}

export function retryAfterOf(error: unknown): number | null {
  const hint = (error as Partial<RetryAfterHint> | null | undefined)?.retryAfterMs;
  return typeof hint === "number" && Number.isFinite(hint) && hint > 0 ? hint : null;
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

export const backoffStrategy: BackoffStrategy = (attemptsMade, _type, error, job) =>
  retryDelayMs({
    failedRuns: attemptsMade,
    firstDelayMs: job?.opts.backoff && typeof job.opts.backoff === "object" ? (job.opts.backoff.delay ?? 0) : 0,
    maxAttempts: job?.opts.attempts ?? 1,
    retryAfterMs: retryAfterOf(error),
  });
