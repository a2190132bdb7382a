import { isIP } from "node:net";
import { z } from "zod";
import { parseRetrySchedule, retryScheduleProblem } from "outbox-relay/webhooks";
import { isLoopbackHost } from "./loopback.ts";
import { minExposedPasswordLength, publishedIn, weaknessOf } from "./weak-secrets.ts";

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z.stringbool({ truthy: ["true", "1", "yes"], falsy: ["false", "0", "no"] });
const cronExpression = z
  .string()
  .trim()
  .regex(/^(\S+\s+){4,5}\S+$/, "must be a cron expression with 5 or 6 fields");

/** Every variable the processes read, with its default. Units are in the names. */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: "must be a postgresql:// URL" })
      .default("postgresql://postgres:postgres@localhost:5432/outbox"),
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
      .default("redis://localhost:6379"),
    REDIS_CLUSTER_NODES: z
      .string()
      .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "must be a comma-separated list of host:port")
      .optional(),
    QUEUE_PREFIX: z.string().regex(/^[\w:{}-]+$/, "may hold letters, digits, _ - : { } only").default("outbox"),
    /** Loopback by default. Any other address, like NODE_ENV=production, refuses weak secrets (see secretChecks). */
    HOST: z.string().min(1).default("127.0.0.1"),
    PORT: port.default(3002),
    WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
    /** /api requests in progress at once in one API process; more answer 503 with Retry-After at once. */
    API_MAX_IN_FLIGHT: positiveInt.max(10_000).default(64),
    /** Of those, how many one tenant may hold; more answer 429 with Retry-After. Unset: a quarter of API_MAX_IN_FLIGHT (at least 1). */
    API_MAX_IN_FLIGHT_PER_TENANT: positiveInt.max(10_000).optional(),
    /** The whole request, headers and body, must arrive within this; a slower client's socket is closed (408). */
    API_REQUEST_TIMEOUT_MS: positiveInt.min(1000).max(600_000).default(10_000),
    /** Requests one tenant (all its API keys together) may make per API_RATE_LIMIT_WINDOW_MS; more answer 429 with Retry-After. */
    API_RATE_LIMIT_MAX: positiveInt.default(1200),
    API_RATE_LIMIT_WINDOW_MS: positiveInt.min(1000).default(60_000),
    /** Where the per-key counts live: `memory` (per API process, no round trip) or `redis` (shared by every API process). */
    API_RATE_LIMIT_STORE: z.enum(["memory", "redis"]).default("memory"),
    /** Live (not revoked) API keys one tenant may hold; making one more answers 409. */
    API_KEYS_PER_TENANT_MAX: positiveInt.max(1000).default(10),
    /** Failed authentications (wrong password, unknown key) one client address may make per AUTH_FAILURE_WINDOW_MS; then 429 until the window ends. */
    AUTH_FAILURES_PER_ADDRESS_MAX: positiveInt.default(10),
    /** Failed admin logins per user name, from every address, per AUTH_FAILURE_WINDOW_MS (addresses that logged in as that user in the last day are exempt). */
    AUTH_FAILURES_PER_USER_MAX: positiveInt.default(50),
    AUTH_FAILURE_WINDOW_MS: positiveInt.min(1000).default(60_000),
    /**
     * The reverse proxies in front of the API (addresses or CIDRs, comma-separated): a request from
     * one of them is counted by the client address its X-Forwarded-For names. Unset, X-Forwarded-For
     * is ignored (a client could name any address in it).
     */
    API_TRUST_PROXY: z
      .string()
      .transform((value) => value.split(",").map((entry) => entry.trim()))
      .refine((entries) => entries.every(isAddressOrCidr), "must be a comma-separated list of IP addresses or CIDRs (e.g. 127.0.0.1,10.0.0.0/8)")
      .optional(),
    /** A bearer token that may read /metrics (API and worker) and nothing else; the admin credentials work too. */
    METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    /** How long an API process trusts a key it looked up; a revocation reaches other API processes within it. 0: no cache. */
    API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
    WORKER_CONCURRENCY: positiveInt.max(2000).default(200),
    WEBHOOK_CONCURRENCY: positiveInt.max(1000).default(50),
    SCAN_CRON: cronExpression.default("*/5 * * * * *"),
    SCAN_BATCH_SIZE: positiveInt.max(5000).default(2000),
    /** Due events of the `events` queue that travel in one BullMQ job; 1: a job per event. */
    EVENTS_PER_JOB: positiveInt.max(500).default(100),
    /** Waiting events in the work queues past which the relay pauses; the backlog stays in Postgres. */
    RELAY_MAX_QUEUED: positiveInt.default(20_000),
    RECOVERY_INTERVAL_MS: positiveInt.default(15_000),
    JOB_LOCK_MS: positiveInt.min(1000).default(5000),
    /** Overrides every event type's first retry delay (the catalog's backoffMs); later ones double it. */
    RETRY_BACKOFF_MS: positiveInt.optional(),
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
    STATS_INTERVAL_MS: positiveInt.min(1000).default(30_000),
    PAYMENT_EXPIRY_CRON: cronExpression.default("*/5 * * * *"),
    PAYMENT_EXPIRY_AFTER_MS: positiveInt.default(30 * 60_000),
    SETTLEMENT_CRON: cronExpression.default("0 8 * * *"),
    RETENTION_CRON: cronExpression.default("17 * * * *"),
    OUTBOX_RETENTION_DAYS: positiveInt.default(7),
    /** Overrides OUTBOX_RETENTION_DAYS with a finer age (soaks and tests that watch the table stay bounded). */
    OUTBOX_RETENTION_MS: positiveInt.optional(),
    ENCRYPTION_KEY: z.string().min(32, "must be at least 32 characters").optional(),
    /** Keys webhook secrets may still be under while a key rotation runs (read only), comma-separated, newest first. */
    ENCRYPTION_KEY_PREVIOUS: z.string().transform(encryptionKeyList).optional(),
    ADMIN_USER: z.string().min(1).default("admin"),
    ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: flag.default(false),
    WEBHOOK_TIMEOUT_MS: positiveInt.default(30_000),
    /** One wait per attempt, each from the end of the attempt before it: `0,1m,10m,1h,6h` (units ms, s, m, h, d). */
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .default("0,1m,10m,1h,6h")
      .superRefine((value, ctx) => {
        const problem = retryScheduleProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .transform((value) => parseRetrySchedule(value)),
    /** Consecutive failed attempts that open an endpoint's circuit breaker, and its first cooldown (doubled per reopening, up to 30 min). */
    WEBHOOK_BREAKER_FAILURES: positiveInt.default(5),
    WEBHOOK_BREAKER_COOLDOWN_MS: positiveInt.default(60_000),
    /** An endpoint whose attempts have all failed for this long is disabled (default 5 days). */
    WEBHOOK_DISABLE_AFTER_MS: positiveInt.default(5 * 24 * 3_600_000),
    /** Webhook endpoints one tenant may have (enabled or disabled; a deleted one is gone and does not count). */
    WEBHOOK_ENDPOINTS_PER_TENANT_MAX: positiveInt.max(1000).default(10),
    /** Deliveries to one endpoint in progress at once in one worker process; default 4 (at most the per-tenant cap). */
    WEBHOOK_IN_FLIGHT_PER_ENDPOINT: positiveInt.optional(),
    /** Deliveries of one tenant in progress at once in one worker process; default a fifth of WEBHOOK_CONCURRENCY. */
    WEBHOOK_IN_FLIGHT_PER_TENANT: positiveInt.optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" }).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.ENCRYPTION_KEY_PREVIOUS && !env.ENCRYPTION_KEY) {
      ctx.addIssue({ code: "custom", path: ["ENCRYPTION_KEY_PREVIOUS"], message: "needs ENCRYPTION_KEY, the key secrets are written under" });
    }
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== "production") return;
    for (const name of ["ENCRYPTION_KEY", "ADMIN_PASSWORD"] as const) {
      if (!env[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required when NODE_ENV=production" });
    }
  })
  .superRefine((env, ctx) => {
    if (apiMaxInFlightPerTenant(env) > env.API_MAX_IN_FLIGHT) {
      ctx.addIssue({ code: "custom", path: ["API_MAX_IN_FLIGHT_PER_TENANT"], message: "must not exceed API_MAX_IN_FLIGHT" });
    }
  })
  .superRefine((env, ctx) => {
    const caps = webhookInFlightCaps(env);
    if (caps.perTenant > env.WEBHOOK_CONCURRENCY) {
      ctx.addIssue({ code: "custom", path: ["WEBHOOK_IN_FLIGHT_PER_TENANT"], message: `must not exceed WEBHOOK_CONCURRENCY (${env.WEBHOOK_CONCURRENCY})` });
    }
    if (caps.perEndpoint > caps.perTenant) {
      ctx.addIssue({ code: "custom", path: ["WEBHOOK_IN_FLIGHT_PER_ENDPOINT"], message: `must not exceed WEBHOOK_IN_FLIGHT_PER_TENANT (${caps.perTenant})` });
    }
  })
  .superRefine((env, ctx) => {
    for (const [name, value, minLength] of secretChecks(env)) {
      const reason = publishedIn(value) ?? (exposes(env) ? weaknessOf(value, minLength) : undefined);
      if (reason) ctx.addIssue({ code: "custom", path: [name], message: reason });
    }
  })
  .superRefine((env, ctx) => {
    if (env.PORT === env.WORKER_PORT) {
      ctx.addIssue({ code: "custom", path: ["WORKER_PORT"], message: "must differ from PORT" });
    }
  });

export type Env = z.infer<typeof envSchema>;

function isAddressOrCidr(entry: string): boolean {
  const [address = "", prefix, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/**
 * ENCRYPTION_KEY_PREVIOUS: keys separated by commas, each at least 32 characters like ENCRYPTION_KEY.
 * Only their length is checked: a key being rotated out may be a weak or leaked one, and it must
 * still be readable to re-encrypt what it holds.
 */
function encryptionKeyList(list: string, ctx: z.RefinementCtx<string>): string[] {
  const keys = list.split(",").map((key) => key.trim());
  keys.forEach((key, i) => {
    if (key.length < 32) ctx.addIssue({ code: "custom", message: `key ${i + 1} of ${keys.length} must be at least 32 characters (a comma-separated list of keys)` });
  });
  return keys;
}

/** /api requests one tenant may have in progress in one API process: API_MAX_IN_FLIGHT_PER_TENANT, by default a quarter of API_MAX_IN_FLIGHT (at least 1). */
export function apiMaxInFlightPerTenant(env: Pick<Env, "API_MAX_IN_FLIGHT" | "API_MAX_IN_FLIGHT_PER_TENANT">): number {
  return env.API_MAX_IN_FLIGHT_PER_TENANT ?? Math.max(1, Math.floor(env.API_MAX_IN_FLIGHT / 4));
}

/** The default per-endpoint cap on deliveries in progress. */
export const defaultWebhookInFlightPerEndpoint = 4;

/**
 * The caps on webhook deliveries in progress in one worker process, with their defaults: per
 * tenant a fifth of WEBHOOK_CONCURRENCY (at least 1), per endpoint 4 (never above the tenant's).
 */
export function webhookInFlightCaps(
  env: Pick<Env, "WEBHOOK_CONCURRENCY" | "WEBHOOK_IN_FLIGHT_PER_ENDPOINT" | "WEBHOOK_IN_FLIGHT_PER_TENANT">,
): { perEndpoint: number; perTenant: number } {
  const perTenant = env.WEBHOOK_IN_FLIGHT_PER_TENANT ?? Math.max(1, Math.floor(env.WEBHOOK_CONCURRENCY / 5));
  const perEndpoint = env.WEBHOOK_IN_FLIGHT_PER_ENDPOINT ?? Math.min(defaultWebhookInFlightPerEndpoint, perTenant);
  return { perEndpoint, perTenant };
}

/** Whether others can reach the process or its data: a listen address beyond loopback, or production. */
function exposes(env: Pick<Env, "NODE_ENV" | "HOST">): boolean {
  return env.NODE_ENV === "production" || !isLoopbackHost(env.HOST);
}

/** The secrets that are set, each with its minimum length where the process is exposed. */
function secretChecks(env: Pick<Env, "ADMIN_PASSWORD" | "ENCRYPTION_KEY" | "METRICS_TOKEN">): [name: string, value: string, minLength: number][] {
  const checks: [string, string | undefined, number][] = [
    ["ADMIN_PASSWORD", env.ADMIN_PASSWORD, minExposedPasswordLength],
    ["ENCRYPTION_KEY", env.ENCRYPTION_KEY, 32],
    ["METRICS_TOKEN", env.METRICS_TOKEN, 32],
  ];
  return checks.filter((check): check is [string, string, number] => Boolean(check[1]));
}
