import { InvalidEventError } from "../events/index.ts";
import type { FailedRun } from "../outbox/index.ts";
import type { EventJobData } from "../queues/index.ts";
import { PermanentError } from "./errors.ts";

/** One job as the processor sees it. */
export interface EventJob {
  id: string;
  data: EventJobData;
  /** Failed runs of this job so far (BullMQ's attemptsMade). */
  attemptsMade: number;
  maxAttempts: number;
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

export function failedRun(job: EventJob, error: Error): FailedRun {
  return { id: job.id, error: errorMessage(error), dead: isDeadFailure(job, error) };
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
