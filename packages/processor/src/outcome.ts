import type { EventJobData } from "@outbox/queues";

/** One job as the processor sees it. */
export interface EventJob {
  id: string;
  data: EventJobData;
  /** Failed runs of this job so far (BullMQ's attemptsMade). */
  attemptsMade: number;
  maxAttempts: number;
}

export type Outcome =
  | { kind: "handled"; durationMs: number; wasDead: boolean }
  /** Already handled, skipped by an admin, or gone: nothing to do. */
  | { kind: "skipped" }
  | { kind: "retry"; error: Error; durationMs: number }
  | { kind: "dead"; error: Error; durationMs: number };

export function attemptOf(job: EventJob): number {
  return job.data.previousAttempts + job.attemptsMade + 1;
}

export function isFinalAttempt(job: EventJob): boolean {
  return job.attemptsMade + 1 >= job.maxAttempts;
}

export function errorMessage(error: Error): string {
  return error.message.slice(0, 4000);
}

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
