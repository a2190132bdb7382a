import { listDead, retryAllDead, retryDead, skipDead } from "../dead-letter/index.ts";
import type { EventCatalog } from "../events/index.ts";
import { replayProcessed } from "../outbox/index.ts";
import { createQueues, createRedis, type QueueSet, type RedisConnection, type RedisSettings } from "../queues/index.ts";
import { Database } from "../sql/index.ts";
import { collectStats } from "../stats/index.ts";
import {
  deadListResult,
  replayResult,
  retryResult,
  skipResult,
  type DeadListResult,
  type ReplayResult,
  type RetryResult,
  type SkipResult,
  type StatsResult,
} from "./results.ts";

export interface AdminOptions {
  /** The service's catalog: which queue, priority and retries a released event's job gets. */
  catalog: EventCatalog;
  /** A connection string (the admin opens and closes its own pool) or the service's `Database`. */
  database: string | Database;
  /** Redis: a URL, cluster settings, or the service's own ioredis connection. */
  redis: string | RedisSettings | RedisConnection;
  /** The worker's `queuePrefix`. */
  queuePrefix?: string;
  /** Overrides every type's first retry delay for the jobs a retry or skip queues (the worker's `retryBackoffMs`). */
  retryBackoffMs?: number;
}

export interface ReplayFilter {
  type: string;
  since: Date;
  /** Exclusive; defaults to now. */
  until?: Date;
}

/** The dead-letter and replay operations of one service's outbox, as the CLI and the admin routes run them. */
export interface OutboxAdmin {
  stats(): Promise<StatsResult>;
  listDead(filter?: { type?: string; limit?: number }): Promise<DeadListResult>;
  /** Back to pending with its attempts reset, its job queued before this resolves. */
  retryDead(eventId: string): Promise<RetryResult>;
  /** Every dead event (of one type), oldest first, each at most once. */
  retryAllDead(filter?: { type?: string }): Promise<RetryResult>;
  /** Passed over for good; the event it held back in its aggregate may run. */
  skipDead(eventId: string): Promise<SkipResult>;
  /** A copy of every processed event of `type` created in [since, until), published again. */
  replay(filter: ReplayFilter): Promise<ReplayResult>;
  /** Closes what the admin opened (not a `Database` or Redis connection it was given). */
  close(): Promise<void>;
}

function isConnection(redis: AdminOptions["redis"]): redis is RedisConnection {
  return typeof redis === "object" && "status" in redis;
}

/** The operations on `db` and `queues`, with the results `outbox-relay` prints with `--json`. */
export function adminOf(db: Database, queues: QueueSet, { retryBackoffMs }: { retryBackoffMs?: number | undefined } = {}): Omit<OutboxAdmin, "close"> {
  const release = { retryBackoffMs };
  return {
    stats: () => collectStats(db, queues),
    listDead: async (filter = {}) => deadListResult(await listDead(db, filter)),
    retryDead: async (eventId) => {
      await retryDead(db, queues, eventId, release);
      return retryResult([eventId]);
    },
    retryAllDead: async ({ type } = {}) => retryResult(await retryAllDead(db, queues, { ...(type ? { type } : {}), ...release })),
    skipDead: async (eventId) => {
      await skipDead(db, queues, eventId, release);
      return skipResult([eventId]);
    },
    replay: async ({ type, since, until }) => {
      const replayed = await replayProcessed(db, { catalog: queues.catalog, type, since, ...(until ? { until } : {}) });
      return replayResult(type, since, replayed.until, replayed.replayed);
    },
  };
}

/** The pool and queues of `options`, each opened unless given, and what closes the ones opened here. */
export function connectOutbox(options: AdminOptions): { db: Database; queues: QueueSet; close: () => Promise<void> } {
  const ownsDatabase = typeof options.database === "string";
  const db = typeof options.database === "string" ? new Database(options.database, { poolSize: 2, applicationName: "outbox-admin" }) : options.database;
  const ownsRedis = !isConnection(options.redis);
  const connection = isConnection(options.redis) ? options.redis : createRedis(typeof options.redis === "string" ? { url: options.redis } : options.redis, "producer");
  const queues = createQueues(connection, options.queuePrefix ?? "outbox", options.catalog);
  return {
    db,
    queues,
    close: async () => {
      await queues.close();
      if (ownsRedis) connection.disconnect();
      if (ownsDatabase) await db.close();
    },
  };
}

/**
 * The admin operations for any catalog, from code. Errors: `DeadLetterError` (code
 * `EVENT_NOT_FOUND`, `EVENT_NOT_DEAD`), `ReleaseNotQueuedError` (the row changed, its job is queued
 * later by the worker's rescue), `ReplayRefusedError`.
 */
export function createAdmin(options: AdminOptions): OutboxAdmin {
  const { db, queues, close } = connectOutbox(options);
  return { ...adminOf(db, queues, options), close };
}
