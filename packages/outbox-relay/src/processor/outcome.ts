import { InvalidEventError } from "../events/index.ts";
import type { FailedRun } from "../outbox/index.ts";
import { nextRunDelayMs, type EventJobData } from "../queues/index.ts";
import { PermanentError } from "./errors.ts";

/** One job as the processor sees it. */
export interface EventJob {
  id: string;
  data: EventJobData;
  /** Failed runs of this job so far (BullMQ's attemptsMade). */
  attemptsMade: number;
  maxAttempts: number;
  /** The job's first retry delay (its backoff's; default none). */
  firstDelayMs?: number;
  /**
   * Runs only if its row is pending, never dead: a batch member, or a job BullMQ has not failed yet.
   * A dead row runs again only when an admin retries its failed job (Bull Board), or through the
   * dead-letter tools, which make it pending first.
   */
  pendingOnly?: boolean;
}

export type Outcome =
  | { kind: "handled"; durationMs: number; wasDead: boolean }
  /** Already handled, skipped by an admin, or gone: nothing to do. */
  | { kind: "skipped" }
  | { kind: "retry"; error: Error; durationMs: number }
  | { kind: "dead"; error: Error; durationMs: number };

/** An external run that did not start (DeferredError): its job waits `delayMs` as delayed, no attempt spent. */
export type Deferred = { kind: "deferred"; delayMs: number };

export function attemptOf(job: EventJob): number {
  return job.data.previousAttempts + job.attemptsMade + 1;
}

export function isFinalAttempt(job: EventJob): boolean {
  return job.attemptsMade + 1 >= job.maxAttempts;
}

/** A schema failure or a PermanentError is dead at once; any other failure on the last attempt too. */
export function isDeadFailure(job: EventJob, error: Error): boolean {
  return error instanceof InvalidEventError || error instanceof PermanentError || isFinalAttempt(job);
}

/** The failure as its row records it: dead, or due again after the wait BullMQ's backoff will give its job (BullMQ counts this failure first). */
export function failedRun(job: EventJob, error: Error): FailedRun {
  const dead = isDeadFailure(job, error);
  const retryInMs = dead ? null : nextRunDelayMs({ ...job, attemptsMade: job.attemptsMade + 1, firstDelayMs: job.firstDelayMs ?? 0, previousAttempts: job.data.previousAttempts }, error);
  return { id: job.id, error: errorMessage(error), dead, retryInMs };
}

export function failedOutcome(job: EventJob, error: Error, started: number): Outcome {
  return { kind: isDeadFailure(job, error) ? "dead" : "retry", error, durationMs: performance.now() - started };
}

export function errorMessage(error: Error): string {
  return error.message.slice(0, 4000);
}

/** Rejects with onTimeout() after timeoutMs; the abandoned work's own failure is then ignored. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      work.catch(() => undefined);
      reject(onTimeout());
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
