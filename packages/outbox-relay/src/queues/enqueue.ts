import { queueNames, type EventPolicy } from "../events/index.ts";
import type { OutboxEvent } from "../outbox/index.ts";
import { batchJobName, newBatchJobId, recordBatchMembers, type BatchedEvent, type BatchJobData } from "./batch.ts";
import { groupByQueue, jobOptions, jobRetention, type EventJobData, type QueueSet } from "./queues.ts";

/** An outbox row as a job: its id is the event id, its delay the time until `available_at`. */
export function toJob(event: OutboxEvent, policy: EventPolicy, backoffMs?: number, now = Date.now()) {
  const data = jobDataOf(event, policy);
  const delay = Math.max(0, event.available_at.getTime() - now);
  return { name: event.event_type, data, opts: { ...jobOptions(event.id, policy, backoffMs, event.attempts), ...(delay > 0 ? { delay } : {}) } };
}

function jobDataOf(event: OutboxEvent, policy: EventPolicy): EventJobData {
  const data: EventJobData = {
    type: event.event_type,
    payload: event.payload,
    aggregateType: event.aggregate_type,
    aggregateId: event.aggregate_id,
    tenantId: event.tenant_id,
    createdAt: event.created_at.toISOString(),
    previousAttempts: event.attempts,
  };
  // Only where it differs from its type's: a bulk resend's deliveries are ordered, their type is not.
  if (event.ordered !== policy.ordered) data.ordered = event.ordered;
  if (event.traceparent) data.traceparent = event.traceparent;
  return data;
}

export interface EnqueueOptions {
  /** Overrides every type's first retry delay (RETRY_BACKOFF_MS). */
  backoffMs?: number | undefined;
  /** Events per batch job; default the queue set's (1: every event its own job). */
  eventsPerJob?: number;
}

/**
 * Queues outbox rows, one addBulk per queue. Rows due now on the `events` queue travel in batch
 * jobs of up to `eventsPerJob`, one priority per batch (a lone row is a one-event job); the rest,
 * webhooks and rows due later, get one job each. A one-event job's id is the event id, so adding a
 * row whose job is still in Redis adds nothing: every path that queues a row (the relay, the release
 * of a held event, the rescuer, a dead-letter retry) may race another safely. A batched row queued
 * twice runs once: the second run finds it processed.
 * A row of a type the catalog does not know gets no job: it stays pending, holding its aggregate,
 * until a worker that knows the type queues it (its rescue pass) with that type's policy.
 * Returns how many events it queued.
 */
export async function enqueueEvents(queues: QueueSet, events: readonly OutboxEvent[], options: EnqueueOptions = {}): Promise<number> {
  const { backoffMs, eventsPerJob = queues.eventsPerJob } = options;
  const known = events.filter((event) => queues.catalog.has(event.event_type));
  if (known.length === 0) return 0;
  const now = Date.now();
  const policyOf = (event: OutboxEvent) => queues.catalog.policyOf(event.event_type);
  const byQueue = groupByQueue(queues.catalog, known, (event) => event.event_type);
  await Promise.all(
    [...byQueue].map(async ([name, group]) => {
      const packable = name === queueNames.events && eventsPerJob > 1 ? group.filter((event) => event.available_at.getTime() <= now) : [];
      const batches = packBatches(packable, policyOf, eventsPerJob);
      const alone = group.filter((event) => !batches.packed.has(event));
      if (batches.jobs.length > 0) {
        // Sent together: the members reach Redis first on the one connection. Should they not (an
        // error), the rescuer takes the events for lost and queues them again: a duplicate runs once.
        const members = batches.jobs.map((job) => ({ id: job.opts.jobId, eventIds: job.data.events.map((e) => e.id) }));
        await Promise.all([recordBatchMembers(queues.connection, queues.events, members), queues.events.addBulk(batches.jobs)]);
      }
      if (alone.length > 0) await queues[name].addBulk(alone.map((event) => toJob(event, policyOf(event), backoffMs, now)));
    }),
  );
  return known.length;
}

/** Due rows in batches of up to `size` per priority, in the order given; a row left alone is not packed. */
function packBatches(events: readonly OutboxEvent[], policyOf: (event: OutboxEvent) => EventPolicy, size: number) {
  const byPriority = new Map<number, OutboxEvent[]>();
  for (const event of events) {
    const priority = jobOptions(event.id, policyOf(event), undefined, event.attempts).priority!;
    const group = byPriority.get(priority);
    if (group) group.push(event);
    else byPriority.set(priority, [event]);
  }
  const packed = new Set<OutboxEvent>();
  const jobs: { name: string; data: BatchJobData; opts: typeof batchJobOptions & { jobId: string; priority: number } }[] = [];
  for (const [priority, group] of byPriority) {
    for (let start = 0; start < group.length; start += size) {
      const chunk = group.slice(start, start + size);
      if (chunk.length < 2) continue;
      for (const event of chunk) packed.add(event);
      const members: BatchedEvent[] = chunk.map((event) => ({ id: event.id, ...jobDataOf(event, policyOf(event)) }));
      jobs.push({ name: batchJobName, data: { events: members }, opts: { ...batchJobOptions, jobId: newBatchJobId(), priority } });
    }
  }
  return { jobs, packed };
}

/**
 * A batch job's own retries cover what fails the whole batch (the database away past the
 * processor's wait): its events' handler failures leave it as jobs of their own. A batch that
 * fails for good leaves its pending events to the rescuer.
 */
const batchJobOptions = { attempts: 3, backoff: { type: "exponential", delay: 1000 }, ...jobRetention };
