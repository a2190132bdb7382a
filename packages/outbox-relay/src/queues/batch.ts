import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import type { RedisConnection } from "./connection.ts";
import type { EventPolicy } from "../events/index.ts";
import { jobOptions, type EventJobData, type FailedInBatch } from "./queues.ts";

/** The name of a job that carries several events (every other job carries one, named by its type). */
export const batchJobName = "batch";

export interface BatchedEvent extends EventJobData {
  id: string;
}

/** What a batch job carries: its events, each as a one-event job would carry it, with its id. */
export interface BatchJobData {
  events: BatchedEvent[];
}

/**
 * Batch jobs are named by a fresh id (`batch-<uuid>`; BullMQ refuses a colon): unlike an event's job, two batches never
 * share an id, so a batch is never mistaken for an older one that BullMQ still keeps.
 */
export function newBatchJobId(): string {
  return `batch-${randomUUID()}`;
}

/**
 * The hash that names, for each event travelling in a batch job of this queue, that job's id: how
 * the rescuer tells a live batched event from a lost one. Under the queue's own key prefix (so in
 * its hash slot on a Redis Cluster); sent with the jobs, cleared by the processor as the batch
 * ends (or by the rescuer, for a batch that is gone), and lost with everything else when Redis
 * loses its data.
 */
function batchMembersKey(queue: Pick<Queue, "qualifiedName">): string {
  return `${queue.qualifiedName}:batch-members`;
}

/** The batch job each of these events travels in, for those that travel in one (one round trip). */
export async function batchesOf(redis: RedisConnection, queue: Queue, ids: readonly string[]): Promise<(string | null)[]> {
  if (ids.length === 0) return [];
  return redis.hmget(batchMembersKey(queue), ...ids);
}

/** Records which batch job each event travels in (sent with the jobs). */
export async function recordBatchMembers(redis: RedisConnection, queue: Queue, batches: readonly { id: string; eventIds: readonly string[] }[]): Promise<void> {
  const fields = batches.flatMap((batch) => batch.eventIds.flatMap((eventId) => [eventId, batch.id]));
  if (fields.length === 0) return;
  await redis.hset(batchMembersKey(queue), ...fields);
}

/** Deletes each field whose value is still ARGV[1]: a member since packed into a newer batch keeps that one. */
const forgetIfStill = `
local forgotten = 0
for i = 2, #ARGV do
  if redis.call("HGET", KEYS[1], ARGV[i]) == ARGV[1] then forgotten = forgotten + redis.call("HDEL", KEYS[1], ARGV[i]) end
end
return forgotten`;

/** Forgets members of the batch `batchId` (handled, or gone with a job of their own), unless packed again since. */
export async function forgetBatchMembers(redis: RedisConnection, queue: Queue, batchId: string, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await redis.eval(forgetIfStill, 1, batchMembersKey(queue), batchId, ...eventIds);
}

/**
 * A batch member as a job of its own (id = event id): an event that left its batch (a failure to
 * replay as the job's first attempt, a type this worker does not know, an external handler).
 */
export function ownJobOf(member: BatchedEvent, policy: EventPolicy, backoffMs?: number, failedInBatch?: FailedInBatch) {
  const { id, ...data } = member;
  return { name: member.type, data: failedInBatch ? { ...data, failedInBatch } : data, opts: { ...jobOptions(id, policy, backoffMs, member.previousAttempts), ...(failedInBatch ? { priority: policy.retryPriority } : {}) } };
}
