import type { PrismaClient } from "@outbox/db";
import { groupByQueue, jobOptions, type EventJobData, type QueueSet } from "@outbox/queues";
import type { ClaimedEvent } from "./claim.ts";

export function toJob(event: ClaimedEvent, backoffMs?: number) {
  const data: EventJobData = {
    type: event.event_type,
    payload: event.payload,
    aggregateType: event.aggregate_type,
    aggregateId: event.aggregate_id,
    tenantId: event.tenant_id,
    createdAt: event.created_at.toISOString(),
    previousAttempts: event.attempts,
  };
  return { name: event.event_type, data, opts: jobOptions(event.id, event.event_type, backoffMs) };
}

/** Adds one job per claimed row to its queue. Job id = event id, so a repeat adds nothing. */
export async function enqueue(queues: QueueSet, events: ClaimedEvent[], backoffMs?: number): Promise<void> {
  const byQueue = groupByQueue(events, (event) => event.event_type);
  await Promise.all([...byQueue].map(([name, group]) => queues[name].addBulk(group.map((event) => toJob(event, backoffMs)))));
}

/**
 * releaseClaim: returns rows this scanner claimed but could not enqueue (Redis down) to pending,
 * so they need not wait for recovery. Only rows still dispatched, i.e. still this claim's.
 */
export async function releaseClaim(prisma: PrismaClient, ids: string[]): Promise<void> {
  await prisma.$executeRaw`
    UPDATE event_outbox SET status = 'pending', dispatched_at = NULL
    WHERE id = ANY(${ids}::uuid[]) AND status = 'dispatched'`;
}
