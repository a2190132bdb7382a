import type { PrismaClient } from "@outbox/db";
import type { QueueSet } from "@outbox/queues";
import { clearJobs } from "./queue.ts";

export class DeadLetterError extends Error {
  constructor(
    readonly code: "EVENT_NOT_FOUND" | "EVENT_NOT_DEAD",
    message: string,
  ) {
    super(message);
    this.name = "DeadLetterError";
  }
}

export interface DeadEvent {
  id: string;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

/** listDead: dead events, oldest first, from Postgres (the DLQ outlives Redis). Reads event_outbox_dead_idx. */
export async function listDead(prisma: PrismaClient, { type, limit = 100 }: { type?: string; limit?: number } = {}): Promise<DeadEvent[]> {
  return prisma.eventOutbox.findMany({
    where: { status: "dead", ...(type ? { eventType: type } : {}) },
    orderBy: { createdAt: "asc" },
    take: limit,
    select: { id: true, eventType: true, aggregateType: true, aggregateId: true, attempts: true, lastError: true, createdAt: true },
  });
}

async function requireDead(prisma: PrismaClient, eventId: string): Promise<{ eventType: string }> {
  const row = await prisma.eventOutbox.findUnique({ where: { id: eventId }, select: { status: true, eventType: true } });
  if (!row) throw new DeadLetterError("EVENT_NOT_FOUND", `no event with id ${eventId}`);
  if (row.status !== "dead") throw new DeadLetterError("EVENT_NOT_DEAD", `event ${eventId} is ${row.status}, not dead`);
  return row;
}

/**
 * retryDead: sends a dead event back to pending with its attempts reset; the scanner dispatches
 * it again (its update wakes the scanners). Its old jobs are removed first so the new dispatch,
 * with the same job id, is not taken for a duplicate.
 */
export async function retryDead(
  prisma: PrismaClient,
  queues: QueueSet,
  eventId: string,
  options: { keepDeadLetterJob?: boolean } = {},
): Promise<void> {
  const { eventType } = await requireDead(prisma, eventId);
  await clearJobs(queues, eventId, eventType, options);
  const updated = await prisma.$executeRaw`
    UPDATE event_outbox SET status = 'pending', attempts = 0, dispatched_at = NULL, available_at = now()
    WHERE id = ${eventId}::uuid AND status = 'dead'`;
  if (updated === 0) throw new DeadLetterError("EVENT_NOT_DEAD", `event ${eventId} is no longer dead`);
}

/** retryAllDead: retries every dead event (of one type, if given). Returns the ids retried. */
export async function retryAllDead(prisma: PrismaClient, queues: QueueSet, { type }: { type?: string } = {}): Promise<string[]> {
  const retried: string[] = [];
  for (;;) {
    const batch = await listDead(prisma, { ...(type ? { type } : {}), limit: 500 });
    if (batch.length === 0) return retried;
    for (const event of batch) {
      await retryDead(prisma, queues, event.id).catch((error: unknown) => {
        if (!(error instanceof DeadLetterError)) throw error;
      });
      retried.push(event.id);
    }
  }
}

/** skipDead: passes over a dead event for good (`skipped`), releasing the later events of its aggregate. */
export async function skipDead(prisma: PrismaClient, queues: QueueSet, eventId: string): Promise<void> {
  const { eventType } = await requireDead(prisma, eventId);
  const updated = await prisma.$executeRaw`
    UPDATE event_outbox SET status = 'skipped', processed_at = now() WHERE id = ${eventId}::uuid AND status = 'dead'`;
  if (updated === 0) throw new DeadLetterError("EVENT_NOT_DEAD", `event ${eventId} is no longer dead`);
  await clearJobs(queues, eventId, eventType);
}
