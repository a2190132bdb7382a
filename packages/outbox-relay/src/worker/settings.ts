import { validateCronExpression } from "cron";
import { z } from "zod";

const positiveInt = z.number().int().positive();
const cronExpression = z.string().refine((pattern) => validateCronExpression(pattern).valid, "must be a cron expression");

/** The worker's tuning, each with its default (the environment variable the order service reads it from). */
const settingsSchema = z.object({
  /** QUEUE_PREFIX: every Redis key of this service's queues starts with it. */
  queuePrefix: z.string().regex(/^[\w:{}-]+$/, "may hold letters, digits, _ - : { } only").default("outbox"),
  /** WORKER_CONCURRENCY: jobs in progress per queue. */
  concurrency: positiveInt.default(200),
  /** WEBHOOK_CONCURRENCY: jobs in progress on the `webhooks` queue (external handlers). */
  webhookConcurrency: positiveInt.default(50),
  /** JOB_LOCK_MS: a job whose worker stopped renewing its lock this long runs elsewhere. */
  jobLockMs: positiveInt.min(1000).default(5000),
  /** RETRY_BACKOFF_MS: overrides every type's first retry delay. */
  retryBackoffMs: positiveInt.optional(),
  /** SCAN_BATCH_SIZE: outbox rows per relay step. */
  scanBatchSize: positiveInt.max(5000).default(2000),
  /** SCAN_CRON: the relay's safety-net tick (NOTIFY wakes it at once). */
  scanCron: cronExpression.default("*/5 * * * * *"),
  /** EVENTS_PER_JOB: due events of the `events` queue that travel in one batch job (1: a job per event). */
  eventsPerJob: positiveInt.max(500).default(100),
  /** RELAY_MAX_QUEUED: waiting events past which the relay pauses (a waiting batch job counts as full). */
  relayMaxQueued: positiveInt.default(20_000),
  /** RECOVERY_INTERVAL_MS: how often pending rows whose job was lost are queued again. */
  recoveryIntervalMs: positiveInt.default(15_000),
  /** SHUTDOWN_TIMEOUT_MS: how long stop() lets active jobs finish. */
  shutdownTimeoutMs: positiveInt.default(25_000),
  /** STATS_INTERVAL_MS: the stats log line's interval. */
  statsIntervalMs: positiveInt.min(1000).default(30_000),
  /** RETENTION_CRON: when finished outbox rows older than retentionMs are deleted. */
  retentionCron: cronExpression.default("17 * * * *"),
  /** OUTBOX_RETENTION_DAYS / _MS: how long processed and skipped rows are kept. */
  retentionMs: positiveInt.default(7 * 24 * 3600_000),
  /** WORKER_PORT: the health and metrics listener; none when absent (0 picks a free port). */
  healthPort: z.number().int().min(0).max(65535).optional(),
  /** HOST: the listener's address. */
  host: z.string().min(1).default("127.0.0.1"),
  /** METRICS_TOKEN: `Authorization: Bearer <token>` reads the listener's /metrics; nobody may without one. */
  metricsToken: z.string().min(1).optional(),
  /** The command that applies the engine's migrations, named to on-call while the database lacks one. */
  migrateCommand: z.string().min(1).default("outbox-relay migrate"),
  /** How often a worker whose database lacks a migration checks it again (it starts once it has them all). */
  schemaCheckIntervalMs: positiveInt.default(5000),
});

export type WorkerSettings = z.output<typeof settingsSchema>;

/** The settings given, with defaults for the rest; a bad one throws, naming it. */
export function workerSettings(given: Partial<z.input<typeof settingsSchema>>): WorkerSettings {
  const picked = Object.fromEntries(Object.keys(settingsSchema.shape).map((key) => [key, given[key as keyof typeof given]]));
  const result = settingsSchema.safeParse(picked);
  if (!result.success) {
    throw new RangeError(`invalid worker settings: ${result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; ")}`);
  }
  return result.data;
}
