import { DelayedError, type Job } from "bullmq";
import type { EventJobData } from "../queues/index.ts";

/** How long a put-back job waits before a worker takes it again. */
const putBackDelayMs = 1000;
/** Takes after which a worker lets the job go instead of putting it back again. */
const maxTakes = 5;

/**
 * A job of a type this worker's catalog does not know: a worker of a newer release queued it,
 * during a rolling deploy. The row is left as it is (pending, no attempt, no error). The job is put
 * back (delayed 1 s, no attempt spent) so that a worker that knows the type may take it; after
 * `maxTakes` takes it is let go, completed without a run, and the rescue pass of a worker that
 * knows the type queues it again. So an old worker beside new ones costs such an event a second or
 * so, and a fleet rolled back to the old release does not spin on these jobs.
 */
export async function putBackUnknownType(job: Job<EventJobData>, token: string | undefined): Promise<void> {
  if (job.attemptsStarted >= maxTakes) return;
  await job.moveToDelayed(Date.now() + putBackDelayMs, token);
  throw new DelayedError();
}
