import { Queue, type JobsOptions } from "bullmq";
import { queueNames, type EventCatalog, type EventPolicy, type WorkQueue } from "../events/index.ts";
import { eventBackoffType } from "./backoff.ts";
import type { BatchJobData } from "./batch.ts";
import type { RedisConnection } from "./connection.ts";

export type QueueName = (typeof queueNames)[keyof typeof queueNames];

/** What a job carries: everything the processor needs without reading the outbox row. */
export interface EventJobData {
  type: string;
  payload: unknown;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  createdAt: string;
  /** Runs this event already used before this dispatch (the row's `attempts`). */
  previousAttempts: number;
  /** Whether it takes part in its aggregate's order (the row's `ordered`); absent in jobs of older versions: its type's policy. */
  ordered?: boolean;
  /** The publishing span's W3C traceparent (the row's), when one was active. */
  traceparent?: string;
  /** The run in a batch job that failed this event, replayed as this job's first attempt. */
  failedInBatch?: FailedInBatch;
}

/** A handler failure in a batch job, as the event's own job replays it. */
export interface FailedInBatch {
  message: string;
  stack?: string | undefined;
  /** Final: the job fails at once, as UnrecoverableError. */
  dead: boolean;
  /** The failure's retry hint (RetryAfterHint), kept for the backoff. */
  retryAfterMs?: number | undefined;
}

/** A dead event, as the dead-letter queue holds it. */
export interface DeadLetterJobData {
  eventId: string;
  type: string;
  queue: QueueName;
  error: string;
}

export const jobRetention = { removeOnComplete: { count: 100 }, removeOnFail: { count: 50 } } as const;

/**
 * Every queue's keys live under one prefix. With a Redis Cluster the prefix is wrapped in a hash
 * tag per queue, so each queue's keys share a slot as BullMQ's scripts require.
 */
export function queuePrefix(prefix: string, queue: QueueName | "schedules", cluster: boolean): string {
  return cluster ? `{${prefix}-${queue}}` : prefix;
}

export interface QueueSet {
  /** The event types whose jobs these queues carry: their queue, priority and retries. */
  catalog: EventCatalog;
  connection: RedisConnection;
  cluster: boolean;
  /** The prefix the queues were made with (the worker's `queuePrefix`). */
  prefix: string;
  /** The key prefix of one queue, for the Worker that consumes it. */
  prefixOf(name: QueueName | "schedules"): string;
  /** Events per batch job the relay, the rescuer and releases pack (1: one job per event). */
  eventsPerJob: number;
  events: Queue<EventJobData | BatchJobData>;
  webhooks: Queue<EventJobData>;
  deadLetter: Queue<DeadLetterJobData>;
  byName(name: string): Queue | undefined;
  all(): Queue[];
  close(): Promise<void>;
}

/** The queue an event type's jobs go to; an unknown type gets `events` (enqueueEvents queues none of its rows). */
export function queueOf(catalog: EventCatalog, type: string): WorkQueue {
  return catalog.policyOf(type).queue;
}

/** Items grouped by the work queue of their event type, for one addBulk or pipeline per queue. */
export function groupByQueue<T>(catalog: EventCatalog, items: readonly T[], typeOf: (item: T) => string): Map<WorkQueue, T[]> {
  const groups = new Map<WorkQueue, T[]>();
  for (const item of items) {
    const name = queueOf(catalog, typeOf(item));
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return groups;
}

export function createQueues(connection: RedisConnection, prefix: string, catalog: EventCatalog, { eventsPerJob = 1 }: { eventsPerJob?: number } = {}): QueueSet {
  const cluster = "isCluster" in connection && connection.isCluster;
  const make = <T>(name: QueueName) => {
    const queue = new Queue<T>(name, { connection, prefix: queuePrefix(prefix, name, cluster) });
    // A queue re-emits its connection's errors, and BullMQ prints an unhandled one with its stack:
    // the connection's owner listens to the connection itself (see createRedis' callers).
    queue.on("error", () => undefined);
    return queue;
  };
  const events = make<EventJobData | BatchJobData>(queueNames.events);
  const webhooks = make<EventJobData>(queueNames.webhooks);
  const deadLetter = make<DeadLetterJobData>(queueNames.deadLetter);
  const all = [events, webhooks, deadLetter] as Queue[];
  return {
    catalog,
    eventsPerJob,
    connection,
    cluster,
    prefix,
    prefixOf: (name) => queuePrefix(prefix, name, cluster),
    events,
    webhooks,
    deadLetter,
    all: () => all,
    byName: (name) => all.find((queue) => queue.name === name),
    close: async () => {
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}

/**
 * BullMQ options for one event's job: its id is the event id, so a second dispatch adds nothing.
 * An event that already used runs (`previousAttempts`, the row's `attempts`: Redis lost its job
 * between retries) gets only the runs left, at least one, at its retry priority.
 */
export function jobOptions(eventId: string, policy: EventPolicy, backoffMs?: number, previousAttempts = 0): JobsOptions {
  return {
    jobId: eventId,
    priority: previousAttempts > 0 ? policy.retryPriority : policy.priority,
    attempts: Math.max(1, policy.attempts - previousAttempts),
    backoff: { type: eventBackoffType, delay: backoffMs ?? policy.backoffMs },
    ...jobRetention,
  };
}
