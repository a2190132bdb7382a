import type { Logger } from "../logger/index.ts";
import { defaultRelayCursor, eventColumns, heldBehindEarlier, passedByRelay, type OutboxEvent } from "../outbox/index.ts";
import type { Queue } from "bullmq";
import { batchesOf, enqueueEvents, forgetBatchMembers, groupByQueue, queueOf, type QueueSet } from "../queues/index.ts";
import { planEachRun, sql, type Database } from "../sql/index.ts";

interface PassedRow extends OutboxEvent {
  transaction_id: string;
  sequence: string;
}

const pageSize = 1000;

/**
 * relayedPending: one page of pending rows the relay has passed (at or before its position, not in
 * a transaction it still watches) that may run now (not held behind an earlier event), of a type
 * the catalog knows, after a key, in commit order. Each should have a live job. Rows of other types
 * are left to a worker that knows them (deployed later, or beside this one). Reads
 * event_outbox_relay_idx up to the position; plain reads, no locks.
 */
async function relayedPending(db: Database, cursorName: string, catalog: QueueSet["catalog"], after: PassedRow | undefined): Promise<PassedRow[]> {
  return db.query<PassedRow>(planEachRun(sql`
    SELECT ${eventColumns}, o.transaction_id::text AS transaction_id, o.sequence::text AS sequence
    FROM event_outbox o, outbox_relay_cursor c
    WHERE c.name = ${cursorName} AND o.status = 'pending' AND ${passedByRelay}
      AND (o.transaction_id, o.sequence) > (${after?.transaction_id ?? "0"}::xid8, ${after?.sequence ?? "0"}::bigint)
      AND o.event_type = ANY(${catalog.types}::text[])
      AND NOT ${heldBehindEarlier}
    ORDER BY o.transaction_id, o.sequence
    LIMIT ${pageSize}`));
}

type JobState = "live" | "missing" | "finished";

/**
 * The state of each of these jobs: `missing` when its hash is gone (Redis restarted, was flushed,
 * or trimmed the job), `finished` when it sits in `failed` or `completed`, else `live`. One round trip.
 */
async function jobStates(queues: QueueSet, queue: Queue, jobIds: readonly string[]): Promise<JobState[]> {
  const pipeline = queues.connection.pipeline();
  for (const id of jobIds) {
    pipeline.exists(queue.toKey(id));
    pipeline.zscore(queue.keys.failed!, id);
    pipeline.zscore(queue.keys.completed!, id);
  }
  const replies = (await pipeline.exec()) ?? [];
  return jobIds.map((_, index) => {
    const [exists, failed, completed] = replies.slice(index * 3, index * 3 + 3).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    if (exists === 0) return "missing";
    return failed !== null || completed !== null ? "finished" : "live";
  });
}

/**
 * Which of these rows have no live job, neither their own nor a batch job they travel in: the job
 * is missing, or finished while the row is still pending (a job that stalled too often, or a
 * worker that died between its last step in Redis and in Postgres). `finished`: the row's own job
 * is kept in `failed`/`completed` and must be removed before the row is queued again.
 */
async function withoutLiveJob(queues: QueueSet, rows: PassedRow[]): Promise<{ missing: PassedRow[]; finished: PassedRow[] }> {
  const missing: PassedRow[] = [];
  const finished: PassedRow[] = [];
  for (const [name, group] of groupByQueue(queues.catalog, rows, (row) => row.event_type)) {
    const queue = queues.byName(name)!;
    const ids = group.map((row) => row.id);
    const [own, batchIds] = await Promise.all([jobStates(queues, queue, ids), batchesOf(queues.connection, queue, ids)]);
    const batches = [...new Set(batchIds.filter((id) => id !== null))];
    const states = await jobStates(queues, queue, batches);
    const batchState = new Map(batches.map((id, index) => [id, states[index]!]));
    const stale = new Map<string, string[]>();
    group.forEach((row, index) => {
      const batch = batchIds[index];
      if (batch && batchState.get(batch) !== "live") stale.set(batch, [...(stale.get(batch) ?? []), row.id]);
      if (own[index] === "live" || (batch && batchState.get(batch) === "live")) return;
      if (own[index] === "missing") missing.push(row);
      else finished.push(row);
    });
    // Entries of batches that are gone (failed for good, or let go by an older worker).
    await Promise.all([...stale].map(([batch, ids]) => forgetBatchMembers(queues.connection, queue, batch, ids)));
  }
  return { missing, finished };
}

/** stillPending: which of these events are pending now. Reads the primary key. */
async function stillPending(db: Database, rows: PassedRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const found = await db.query<{ id: string }>(sql`
    SELECT id::text AS id FROM event_outbox WHERE id = ANY(${rows.map((row) => row.id)}::uuid[]) AND status = 'pending'`);
  return new Set(found.map((row) => row.id));
}

export interface RecoveryOptions {
  db: Database;
  queues: QueueSet;
  logger: Logger;
  retryBackoffMs?: number | undefined;
  cursorName?: string;
}

/**
 * One rescue pass: pending rows the relay has passed whose job is lost are queued again (a
 * finished job is removed first, so the new one is not taken for a duplicate). Safe at any time and
 * in any number of processes: adding a job that exists adds nothing, and a job of an event that
 * was handled meanwhile finds it processed and does nothing. Returns how many it queued.
 *
 * It reads the rows oldest first, a page at a time, and stops after a page in which every job is
 * alive: a lost job behind a live backlog is found once the backlog ahead of it is handled, which
 * delays nothing, and so a pass over a backlog of a million rows reads one page, not a million.
 * After Redis lost its data every page has lost jobs, and the pass goes to the end.
 */
export async function recoverLostJobs({ db, queues, logger, retryBackoffMs, cursorName = defaultRelayCursor }: RecoveryOptions): Promise<number> {
  let recovered = 0;
  let page: PassedRow[];
  let after: PassedRow | undefined;
  let lostInPage: number;
  do {
    page = await relayedPending(db, cursorName, queues.catalog, after);
    after = page.at(-1);
    lostInPage = await requeueLost(db, queues, page, retryBackoffMs);
    recovered += lostInPage;
  } while (page.length === pageSize && lostInPage > 0);
  if (recovered) logger.warn({ recovered }, "pending events had no job (lost by Redis, or of a type no worker knew before); queued them");
  return recovered;
}

/** Queues again the rows of a page whose job is lost. Returns how many. */
async function requeueLost(db: Database, queues: QueueSet, page: PassedRow[], retryBackoffMs: number | undefined): Promise<number> {
  const suspects = await withoutLiveJob(queues, page);
  // A row read as pending whose job then completed and was trimmed is processed by now: only
  // rows still pending after the Redis check have lost their jobs.
  const pending = await stillPending(db, [...suspects.missing, ...suspects.finished]);
  const missing = suspects.missing.filter((row) => pending.has(row.id));
  const finished = suspects.finished.filter((row) => pending.has(row.id));
  await Promise.all(finished.map((row) => queues.byName(queueOf(queues.catalog, row.event_type))!.remove(row.id).catch(() => 0)));
  const lost = [...missing, ...finished];
  await enqueueEvents(queues, lost, { backoffMs: retryBackoffMs });
  return lost.length;
}
