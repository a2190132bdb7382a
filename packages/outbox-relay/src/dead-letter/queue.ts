import { queueOf, type DeadLetterJobData, type QueueName, type QueueSet } from "../queues/index.ts";

/** Puts a dead event into the dead-letter queue, where Bull Board shows it as a failed job. */
export async function sendToDeadLetter(queues: QueueSet, entry: DeadLetterJobData): Promise<void> {
  await queues.deadLetter.add(entry.type, entry, { jobId: entry.eventId, attempts: 1, removeOnComplete: true, removeOnFail: false });
}

/** Removes an event's jobs from its work queue and from the dead-letter queue, so it can be dispatched anew. */
export async function clearJobs(queues: QueueSet, eventId: string, eventType: string, { keepDeadLetterJob = false } = {}): Promise<void> {
  const workQueue: QueueName = queueOf(queues.catalog, eventType);
  await queues.byName(workQueue)!.remove(eventId);
  if (!keepDeadLetterJob) await queues.deadLetter.remove(eventId);
}
