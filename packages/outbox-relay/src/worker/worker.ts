import { sendToDeadLetter, startDeadLetterWorker } from "../dead-letter/index.ts";
import type { EventCatalog } from "../events/index.ts";
import { postgresCheck, readinessOf, redisCheck, startHealthServer, watchPostgres, watchRedis, type DependencyWatch } from "../health/index.ts";
import { createLogger, type Logger } from "../logger/index.ts";
import { createMetrics, type Metrics } from "../metrics/index.ts";
import { EventProcessor, prismaTransactions, type HandlerMap, type Outcome, type PrismaClientLike, type PrismaTransaction } from "../processor/index.ts";
import { createQueues, createRedis, watchQueueStore } from "../queues/index.ts";
import { markUnordered } from "../outbox/index.ts";
import { OutboxScanner, recoverLostJobs } from "../relay/index.ts";
import { outboxRetention, startSchedules, type Schedule } from "../schedules/index.ts";
import { Database, type Queryable } from "../sql/index.ts";
import { collectStats, startStatsLog } from "../stats/index.ts";
import type { EncryptionKeys } from "../webhooks/reencrypt.ts";
import { watchSchema } from "./schema-check.ts";
import { startSecretReencryption } from "./webhook-keys.ts";
import { StartAbortedError } from "./errors.ts";
import { workerSettings, type WorkerSettings } from "./settings.ts";

/** What handlers get as `tx`: the Prisma client's transaction client when the worker is given one, else the engine's Queryable. */
export type HandlerTx<P extends PrismaClientLike | undefined> = P extends PrismaClientLike ? PrismaTransaction<P> : Queryable;

export interface WorkerOptions<C extends EventCatalog, P extends PrismaClientLike | undefined = undefined> extends Partial<WorkerSettings> {
  /** The service's event types (defineEvents). */
  catalog: C;
  /** The handlers, or a function of the worker's metrics and pool that makes them (webhook metrics read endpoints' states through it). */
  handlers: HandlerMap<C, HandlerTx<P>> | ((context: { metrics: Metrics; db: Database }) => HandlerMap<C, HandlerTx<P>>);
  /**
   * The service's Prisma client: each batch's transaction is then one of its interactive
   * transactions, so handlers write through its models (`tx.invoice.update(…)`) and their writes
   * commit with the events' processed marks. Relay, stats and the rest keep the engine's own pool.
   */
  prisma?: P;
  databaseUrl: string;
  redisUrl: string;
  /** Cluster nodes ("host:port,host:port"), when Redis is a Cluster. */
  redisClusterNodes?: string | undefined;
  /** Default: pino at info, JSON (pretty on a terminal outside production). */
  logger?: Logger;
  /** Scheduled jobs of the service's own, beside the outbox retention schedule. */
  schedules?: readonly Schedule[];
  onOutcome?: (type: string, outcome: Outcome) => void;
  /** Reports every committed batch of the processor (the bench counts statements per batch). */
  onBatch?: (batch: { events: number }) => void;
  /**
   * The webhook secrets' keys (outbox-relay/webhooks). While `previousEncryptionKeys` are set, the
   * worker re-encrypts every secret under `encryptionKey` once at start, in the background, and logs
   * what it did; a failure is logged and the worker runs on.
   */
  webhookKeys?: EncryptionKeys;
  /** Aborts a start still waiting for Postgres, Redis or a migration (a stop signal): startWorker then rejects with StartAbortedError. */
  signal?: AbortSignal;
}

export interface RunningWorker {
  /** The port of the health and metrics listener (the one picked for 0); undefined without one. */
  healthPort: number | undefined;
  /** The worker's pool, for companions that live and stop with it (the mailer). */
  db: Database;
  stop(): Promise<void>;
}

/**
 * The worker process: relay (read the outbox in commit order, queue jobs), processor (run
 * handlers), lost-job recovery, the dead-letter queue's worker, the scheduled jobs, the stats log
 * line, and the health and metrics listener. Every statement goes through one `pg` pool, except
 * the handlers' transactions when `prisma` is given (they run in the service's Prisma client, which
 * the service disconnects after stop()). `stop()` shuts down in a fixed order: stop relaying, let
 * active jobs finish within shutdownTimeoutMs, then close queues and connections.
 *
 * Postgres and Redis are watched (outbox-relay/health's watchDependency): one warning when either goes
 * away and one when it is back, instead of a line per retry from every component. At start the
 * health listener comes first, then the worker waits for both stores (one warning for a store that
 * is not up yet; /readyz names it), then for the database to have every migration the engine ships
 * (one error naming the missing one and `migrateCommand`; /readyz names it), then starts relaying
 * and consuming.
 */
export async function startWorker<C extends EventCatalog, P extends PrismaClientLike | undefined = undefined>(options: WorkerOptions<C, P>): Promise<RunningWorker> {
  const { catalog, handlers, databaseUrl, onOutcome, onBatch, signal } = options;
  const config = workerSettings(options);
  const logger = options.logger ?? createLogger({ name: "worker" });
  const db = new Database(databaseUrl, {
    poolSize: 10,
    applicationName: "outbox-worker",
    onIdleError: (error) => {
      if (!postgres.failed(error)) logger.warn({ err: error }, "an idle Postgres connection failed; the pool replaces it");
    },
  });
  // Before any connection opens: a client the engine cannot use throws here with nothing to close.
  const begin = options.prisma ? prismaTransactions(options.prisma, db) : undefined;
  const postgres: DependencyWatch = watchPostgres(db, databaseUrl, logger);
  const redisSettings = { url: options.redisUrl, ...(options.redisClusterNodes ? { clusterNodes: options.redisClusterNodes } : {}) };
  const connection = createRedis(redisSettings, "worker");
  const probe = createRedis(redisSettings, "producer");
  const redis = watchRedis({ connections: [connection, probe], probeWith: probe, settings: redisSettings, logger });
  const queues = createQueues(connection, config.queuePrefix, catalog, { eventsPerJob: config.eventsPerJob });
  const schema = watchSchema({ db, logger, migrateCommand: config.migrateCommand, intervalMs: config.schemaCheckIntervalMs });
  const checks = { postgres: postgresCheck(db), redis: redisCheck(probe), schema: schema.check };
  const metrics = createMetrics({ stats: () => collectStats(db, queues), relay: true, readiness: () => readinessOf(checks) });
  const outcomeObservers = (type: string, outcome: Outcome) => {
    metrics.recordOutcome(type, outcome);
    statsLog.record(outcome);
    onOutcome?.(type, outcome);
  };

  const processor = new EventProcessor({
    db,
    queues,
    connection,
    handlers: (typeof handlers === "function" ? handlers({ metrics, db }) : handlers),
    begin,
    logger,
    concurrency: config.concurrency,
    webhookConcurrency: config.webhookConcurrency,
    lockDurationMs: config.jobLockMs,
    retryBackoffMs: config.retryBackoffMs,
    onOutcome: outcomeObservers,
    ...(onBatch ? { onBatch } : {}),
    deadLetter: {
      send: (entry) => sendToDeadLetter(queues, entry),
      remove: async (eventId) => {
        await queues.deadLetter.remove(eventId);
      },
    },
  });
  const relay = { db, queues, logger, retryBackoffMs: config.retryBackoffMs };
  const scanner = new OutboxScanner({
    ...relay,
    databaseUrl,
    batchSize: config.scanBatchSize,
    scanCron: config.scanCron,
    maxQueued: config.relayMaxQueued,
    onDispatched: (count) => metrics.recordDispatched(count),
    onStep: () => metrics.recordRelayStep(),
  });

  const health = config.healthPort === undefined ? undefined : await startHealthServer({
          port: config.healthPort,
          host: config.host,
          checks,
          registry: metrics.registry,
          metricsToken: config.metricsToken,
        });
  /** The stores' connections and watches, last to go; the pool after them. */
  const disconnect = async () => {
    schema.stop();
    redis.stop();
    postgres.stop();
    connection.disconnect();
    probe.disconnect();
    await db.close();
  };
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal?.aborted) resolve("aborted");
    signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  const storesAndSchema = Promise.all([postgres.reachable(), redis.reachable()]).then(() => schema.matched());
  if ((await Promise.race([storesAndSchema, aborted])) === "aborted") {
    // Nothing was read or queued yet: drop the connections (a store that is away may never answer a close).
    await health?.close();
    await disconnect();
    throw new StartAbortedError();
  }
  const statsLog = startStatsLog({ db, queues, logger, intervalMs: config.statsIntervalMs });
  const deadLetterWorker = startDeadLetterWorker({ db, queues, connection, logger, retryBackoffMs: config.retryBackoffMs });
  const retention = outboxRetention({ pattern: config.retentionCron, olderThanMs: config.retentionMs });
  // Registered before anything consumes: a schedule Redis refuses (a bad pattern) fails the start with nothing left running.
  const schedules = await startSchedules({ db, connection, prefix: config.queuePrefix, schedules: [retention, ...(options.schedules ?? [])], logger }).catch(
    async (error: unknown) => {
      await Promise.all([deadLetterWorker.close(), statsLog.stop(), health?.close()]);
      await queues.close();
      await disconnect();
      throw error;
    },
  );
  await db.warm();
  await markUnorderedRows(db, catalog.unorderedTypes, logger);
  // One rescue pass at a time: the interval's and the one a lost queue store asks for.
  let recovering: Promise<unknown> = Promise.resolve();
  const recover = () =>
    (recovering = recovering.then(() =>
      recoverLostJobs(relay).catch((error: unknown) => logger.error({ err: error }, "lost-job recovery failed; it runs again at the next interval")),
    ));
  await recover();
  processor.start();
  await scanner.start();
  const recovery = setInterval(() => void recover(), config.recoveryIntervalMs);
  const storeWatch = watchQueueStore({
    connection,
    prefix: config.queuePrefix,
    intervalMs: 1000,
    onLoss: () => {
      logger.warn("the queue store lost its data (Redis flushed, or restarted empty): queueing the pending events again and registering the schedules");
      void recover();
      schedules.register().catch((error: unknown) => logger.error({ err: error }, "could not register the schedules again; they are registered at the next start"));
    },
  });
  logger.info({ concurrency: config.concurrency, queuePrefix: config.queuePrefix, healthPort: health?.port }, "worker started");
  const reencryption = startSecretReencryption(db, options.webhookKeys, logger);

  return {
    healthPort: health?.port,
    db,
    async stop() {
      clearInterval(recovery);
      storeWatch.stop();
      await reencryption.stop();
      await scanner.stop();
      await recovering;
      await processor.close(config.shutdownTimeoutMs);
      await Promise.all([deadLetterWorker.close(), schedules.stop(), statsLog.stop()]);
      await health?.close();
      await queues.close();
      await disconnect();
      logger.info("worker stopped");
    },
  };
}

/** Unfinished rows stored ordered though the catalog calls their type unordered (docs/upgrading.md): marked at each start. */
async function markUnorderedRows(db: Queryable, types: readonly string[], logger: Logger): Promise<void> {
  try {
    const marked = await markUnordered(db, types);
    if (marked > 0) logger.info({ events: marked }, "unfinished events of unordered types marked unordered");
  } catch (error) {
    logger.error({ err: error }, "could not mark unfinished events of unordered types: they keep their aggregate's order until the next start");
  }
}
