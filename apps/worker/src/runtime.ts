import type { Env } from "@outbox/config";
import { orderEvents, type OrderEvents } from "@outbox/domain";
import { startWorker as startEngine, type Logger, type PrismaClientLike, type RunningWorker, type WorkerOptions as EngineOptions } from "outbox-relay";
import { createDomainHandlers, orderSchedules } from "@outbox/handlers";
import { createWebhookDeliveryHandler, webhookMetrics } from "outbox-relay/webhooks";
import { deliveryOptionsFromConfig } from "./webhook-settings.ts";

export interface WorkerOptions extends Pick<EngineOptions<OrderEvents>, "handlers" | "onOutcome" | "onBatch" | "signal"> {
  config: Env;
  logger: Logger;
  /** Runs the handlers' transactions in this Prisma client instead of the engine's pool (the bench compares the two). */
  prisma?: PrismaClientLike;
}

/** The order service's worker: the engine with the order domain's catalog, settings from the environment, and its schedules. */
export async function startWorker({ config, ...options }: WorkerOptions): Promise<RunningWorker & { healthPort: number }> {
  const worker = await startEngine({
    ...options,
    catalog: orderEvents,
    ...settingsFrom(config),
    schedules: orderSchedules({
      paymentExpiry: { pattern: config.PAYMENT_EXPIRY_CRON, tz: "UTC" },
      paymentExpiryAfterMs: config.PAYMENT_EXPIRY_AFTER_MS,
      settlement: { pattern: config.SETTLEMENT_CRON, tz: "UTC" },
    }),
  });
  return { ...worker, healthPort: worker.healthPort! };
}

/** The order service's handlers: the domain's, and webhook delivery counted on the process's metrics. */
export function orderHandlers(config: Env): WorkerOptions["handlers"] {
  return ({ metrics, db }) => ({
    ...createDomainHandlers(),
    WebhookDelivery: createWebhookDeliveryHandler(deliveryOptionsFromConfig(config, webhookMetrics(metrics.registry, { db }))),
  });
}

function settingsFrom(config: Env) {
  return {
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    redisClusterNodes: config.REDIS_CLUSTER_NODES,
    queuePrefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    webhookConcurrency: config.WEBHOOK_CONCURRENCY,
    jobLockMs: config.JOB_LOCK_MS,
    retryBackoffMs: config.RETRY_BACKOFF_MS,
    scanBatchSize: config.SCAN_BATCH_SIZE,
    scanCron: config.SCAN_CRON,
    eventsPerJob: config.EVENTS_PER_JOB,
    relayMaxQueued: config.RELAY_MAX_QUEUED,
    recoveryIntervalMs: config.RECOVERY_INTERVAL_MS,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    statsIntervalMs: config.STATS_INTERVAL_MS,
    retentionCron: config.RETENTION_CRON,
    retentionMs: config.OUTBOX_RETENTION_MS ?? config.OUTBOX_RETENTION_DAYS * 24 * 3600_000,
    healthPort: config.WORKER_PORT,
    host: config.HOST,
    metricsToken: config.METRICS_TOKEN,
    migrateCommand: "pnpm db:migrate",
    webhookKeys: { encryptionKey: config.ENCRYPTION_KEY, previousEncryptionKeys: config.ENCRYPTION_KEY_PREVIOUS },
  };
}
