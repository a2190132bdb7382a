import { Prisma, type PrismaClient } from "@outbox/db";

export interface ClaimedEvent {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  payload: unknown;
  attempts: number;
  created_at: Date;
}

/**
 * claimPending: moves up to `limit` due pending rows to `dispatched` and returns them, oldest first.
 *
 * - `FOR UPDATE SKIP LOCKED`: scanners in other processes skip the rows this one is claiming,
 *   so no row is claimed twice and no scanner waits for another.
 * - Per-aggregate order: a row of an ordered type is claimable only when no earlier row of its
 *   aggregate is unfinished (pending, dispatched or dead). A dead row therefore holds its aggregate
 *   until an admin retries or skips it. One probe of event_outbox_aggregate_open_idx per candidate.
 * - Reads event_outbox_pending_idx in its own order (available_at, sequence): no sort, however
 *   many rows are pending.
 */
export function claimStatement(limit: number, unorderedTypes: string[]): Prisma.Sql {
  return Prisma.sql`
    WITH claimable AS (
      SELECT o.id
      FROM event_outbox o
      WHERE o.status = 'pending'
        AND o.available_at <= now()
        AND (o.event_type = ANY(${unorderedTypes}::text[]) OR NOT EXISTS (
          SELECT 1 FROM event_outbox earlier
          WHERE earlier.aggregate_type = o.aggregate_type
            AND earlier.aggregate_id = o.aggregate_id
            AND earlier.status IN ('pending', 'dispatched', 'dead')
            AND earlier.sequence < o.sequence))
      ORDER BY o.available_at, o.sequence
      LIMIT ${limit}
      FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE event_outbox o
    SET status = 'dispatched', dispatched_at = now()
    FROM claimable
    WHERE o.id = claimable.id
    RETURNING o.id, o.event_type, o.aggregate_type, o.aggregate_id, o.tenant_id, o.payload, o.attempts, o.created_at`;
}

export async function claimPending(prisma: Pick<PrismaClient, "$queryRaw">, limit: number, unorderedTypes: string[]): Promise<ClaimedEvent[]> {
  return prisma.$queryRaw<ClaimedEvent[]>(claimStatement(limit, unorderedTypes));
}

/**
 * nextDueAt: when the earliest delayed pending row becomes due, so the scanner can wake for it
 * instead of waiting for the next tick. Reads event_outbox_pending_idx.
 */
export async function nextDueAt(prisma: PrismaClient): Promise<Date | null> {
  const [row] = await prisma.$queryRaw<{ due: Date | null }[]>`
    SELECT min(available_at) AS due FROM event_outbox WHERE status = 'pending' AND available_at > now()`;
  return row?.due ?? null;
}
