import type { PrismaClient } from "@outbox/db";
import type { Logger } from "@outbox/logger";
import { groupByQueue, queueOf, type QueueSet } from "@outbox/queues";

interface DispatchedRow {
  id: string;
  event_type: string;
  dispatched_at: Date;
}

const pageSize = 1000;

/**
 * dispatchedBefore: one page of rows dispatched before the grace cut-off, after a cursor.
 * Reads event_outbox_dispatched_idx only: the check never scans the table.
 */
async function dispatchedBefore(prisma: PrismaClient, graceMs: number, after: DispatchedRow | undefined): Promise<DispatchedRow[]> {
  const cursorTime = after?.dispatched_at ?? new Date(0);
  const cursorId = after?.id ?? "00000000-0000-0000-0000-000000000000";
  return prisma.$queryRaw<DispatchedRow[]>`
    SELECT id, event_type, dispatched_at FROM event_outbox
    WHERE status = 'dispatched'
      AND dispatched_at < now() - make_interval(secs => ${graceMs / 1000})
      AND (dispatched_at, id) > (${cursorTime}, ${cursorId}::uuid)
    ORDER BY dispatched_at, id
    LIMIT ${pageSize}`;
}

/**
 * Which of these rows have no live job: the job hash is gone (Redis restarted, was flushed, or
 * trimmed the job), or the job sits in `failed`/`completed` while the row is still dispatched
 * (the worker died between its last step in Redis and in Postgres).
 */
async function withoutLiveJob(queues: QueueSet, rows: DispatchedRow[]): Promise<DispatchedRow[]> {
  const lost: DispatchedRow[] = [];
  for (const [name, group] of groupByQueue(rows, (row) => row.event_type)) {
    const queue = queues.byName(name)!;
    const pipeline = queues.connection.pipeline();
    for (const row of group) {
      pipeline.exists(queue.toKey(row.id));
      pipeline.zscore(queue.keys.failed!, row.id);
      pipeline.zscore(queue.keys.completed!, row.id);
    }
    const replies = (await pipeline.exec()) ?? [];
    group.forEach((row, index) => {
      const [exists, failed, completed] = replies.slice(index * 3, index * 3 + 3).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      if (exists === 0 || failed !== null || completed !== null) lost.push(row);
    });
  }
  return lost;
}

/** Sends rows whose job is lost back to pending; the update's NOTIFY wakes the scanners. */
async function redispatch(prisma: PrismaClient, queues: QueueSet, rows: DispatchedRow[]): Promise<number> {
  await Promise.all(rows.map((row) => queues.byName(queueOf(row.event_type))!.remove(row.id).catch(() => 0)));
  return prisma.$executeRaw`
    UPDATE event_outbox SET status = 'pending', dispatched_at = NULL
    WHERE id = ANY(${rows.map((row) => row.id)}::uuid[]) AND status = 'dispatched'`;
}

export interface RecoveryOptions {
  prisma: PrismaClient;
  queues: QueueSet;
  logger: Logger;
  /** Rows dispatched more recently than this are left alone: their jobs may be on the way. */
  graceMs: number;
}

/** One recovery pass over every dispatched row past the grace period. Returns how many it redispatched. */
export async function recoverLostJobs({ prisma, queues, logger, graceMs }: RecoveryOptions): Promise<number> {
  let recovered = 0;
  let page: DispatchedRow[];
  let cursor: DispatchedRow | undefined;
  do {
    page = await dispatchedBefore(prisma, graceMs, cursor);
    cursor = page.at(-1);
    const lost = await withoutLiveJob(queues, page);
    if (lost.length) recovered += await redispatch(prisma, queues, lost);
  } while (page.length === pageSize);
  if (recovered) logger.warn({ recovered }, "dispatched events had lost their jobs; dispatched them again");
  return recovered;
}
