import type { OutboxEvent } from "../outbox/index.ts";
import type { EventPolicy } from "../events/index.ts";
import { groupByQueue, jobOptions, type EventJobData, type QueueSet } from "./queues.ts";

/** An outbox row as a job: its id is the event id, its delay the time until `available_at`. */
export function toJob(event: OutboxEvent, policy: EventPolicy, backoffMs?: number, now = Date.now()) {
  const data: EventJobData = {
    type: event.event_type,
    payload: event.payload,
    aggregateType: event.aggregate_type,
    aggregateId: event.aggregate_id,
    tenantId: event.tenant_id,
    createdAt: event.created_at.toISOString(),
    previousAttempts: event.attempts,
  };
  if (event.traceparent) data.traceparent = event.traceparent;
  const delay = Math.max(0, event.available_at.getTime() - now);
  return { name: event.event_type, data, opts: { ...jobOptions(event.id, policy, backoffMs), ...(delay > 0 ? { delay } : {}) } };
}

/**
 * Adds one job per outbox row to its queue, one addBulk per queue. Job id = event id, so adding
 * a row whose job is still in Redis adds nothing: every path that queues a row (the relay, the
 * release of a held event, the rescuer, a dead-letter retry) may race another safely.
 * A row of a type the catalog does not know gets no job: it stays pending, holding its aggregate,
 * until a worker that knows the type queues it (its rescue pass) with that type's policy.
 * Returns how many jobs it queued.
 */
export async function enqueueEvents(queues: QueueSet, events: readonly OutboxEvent[], backoffMs?: number): Promise<number> {
  const known = events.filter((event) => queues.catalog.has(event.event_type));
  if (known.length === 0) return 0;
  const now = Date.now();
  const byQueue = groupByQueue(queues.catalog, known, (event) => event.event_type);
  const jobOf = (event: OutboxEvent) => toJob(event, queues.catalog.policyOf(event.event_type), backoffMs, now);
  await Promise.all([...byQueue].map(([name, group]) => queues[name].addBulk(group.map(jobOf))));
  return known.length;
}
