import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { apiMaxInFlightPerTenant, type Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import type { Database, Logger, RedisConnection } from "outbox-relay";
import { collectStats, type QueueSet } from "outbox-relay/admin";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { createMetrics, outboxAdminPlugin, portalPlugin, postgresCheck, readinessOf, redisCheck, schemaCheck } from "outbox-relay/fastify";
import { adminCredentialsOf } from "./auth/admin-credentials.ts";
import { ApiKeyCache } from "./auth/api-key-cache.ts";
import { FailedLogins } from "./auth/failed-logins.ts";
import { registerRateLimit } from "./auth/rate-limit.ts";
import { registerRouteAccess, requireAdmin } from "./auth/route-access.ts";
import { describeRoute, registerDocs } from "./docs.ts";
import { bodyLimitBytes, errorHandler } from "./errors.ts";
import { registerInputChecks } from "./input-checks.ts";
import { registerLoadShedding } from "./load-shedding.ts";
import { registerTracing } from "./tracing.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { eventRoutes } from "./routes/events.ts";
import { eventTypeRoutes } from "./routes/event-types.ts";
import { documentedHealthRoutes } from "./routes/health.ts";
import { orderRoutes } from "./routes/orders.ts";
import { paymentRoutes } from "./routes/payments.ts";
import { portalLinkRoutes } from "./routes/portal-links.ts";
import { productRoutes } from "./routes/products.ts";
import { tenantAndUserRoutes } from "./routes/tenants-users.ts";
import { endpointSettingsFromConfig, webhookEndpointRoutes } from "./routes/webhook-endpoints.ts";

export interface AppOptions {
  config: Env;
  /** The pool: the engine's statements (stats, dead-letter operations, replay, event state, readiness) and API key lookups. */
  db: Database;
  /** Application code's client, built on the same pool (createPrisma(db.pool)). */
  prisma: PrismaClient;
  logger: Logger;
  /** The queues (for the admin UI); their connection also answers the readiness check. */
  queues?: QueueSet;
  /** The Redis readiness pings when no queues are given. */
  redis?: RedisConnection;
}

/** The API's version in the OpenAPI document (this package's version). */
const apiVersion = "1.0.0";

/**
 * One line per request, when it is answered, instead of Fastify's two: method, URL (the logger's
 * serializer redacts secret query values), status and duration in ms.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { req: request, res: reply, durationMs: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...fields, err: error }, "request errored");
    else reply.log.info(fields, "request completed");
  }
}

/**
 * The HTTP API as a Fastify instance; main.ts listens, tests call `inject`. Throws a ConfigError
 * naming ADMIN_PASSWORD when it is not set.
 */
export async function buildApp({ config, db, prisma, logger, queues, redis }: AppOptions): Promise<FastifyInstance> {
  const admin = adminCredentialsOf(config);
  const loggerInstance: FastifyBaseLogger = logger.child({ component: "api" });
  const app = Fastify({
    loggerInstance,
    bodyLimit: bodyLimitBytes,
    logController: new RequestLog(),
    // A client that sends its headers or body slowly is cut off (408) instead of holding its socket for minutes.
    requestTimeout: config.API_REQUEST_TIMEOUT_MS,
    http: { headersTimeout: config.API_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    // request.ip (failed-login counts, logs) is X-Forwarded-For's client only behind a proxy named here.
    ...(config.API_TRUST_PROXY ? { trustProxy: config.API_TRUST_PROXY } : {}),
  });
  app.setErrorHandler(errorHandler);
  // JSON only: Fastify's text/plain parser would let another site's <form enctype="text/plain"> reach a route.
  app.removeContentTypeParser("text/plain");
  registerTracing(app);
  await registerLoadShedding(app, { maxInFlight: config.API_MAX_IN_FLIGHT, maxInFlightPerTenant: apiMaxInFlightPerTenant(config), maxEventLoopDelayMs: 1000 });
  const keys = new ApiKeyCache({ ttlMs: config.API_KEY_CACHE_TTL_MS });
  const connection = queues?.connection ?? redis;
  const sharedCounts = config.API_RATE_LIMIT_STORE === "redis" && connection ? { redis: { connection, prefix: config.QUEUE_PREFIX } } : {};
  const failedLogins = new FailedLogins({
    perAddress: config.AUTH_FAILURES_PER_ADDRESS_MAX,
    perUser: config.AUTH_FAILURES_PER_USER_MAX,
    windowMs: config.AUTH_FAILURE_WINDOW_MS,
    ...sharedCounts,
  });
  registerRouteAccess(app, { db, admin, keys, metricsToken: config.METRICS_TOKEN, failedLogins });
  await registerRateLimit(app, { max: config.API_RATE_LIMIT_MAX, windowMs: config.API_RATE_LIMIT_WINDOW_MS, ...sharedCounts });
  registerInputChecks(app);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `route ${request.method} ${request.url.split("?")[0]} not found`, code: "ROUTE_NOT_FOUND" }),
  );

  const checks = {
    postgres: postgresCheck(db),
    redis: connection ? redisCheck(connection) : () => Promise.reject(new Error("not configured")),
    schema: schemaCheck(db, { migrateCommand: "pnpm db:migrate" }),
  };
  const metrics = createMetrics({ ...(queues ? { stats: () => collectStats(db, queues) } : {}), readiness: () => readinessOf(checks) });
  // Before any route: the document collects each route as it is added.
  await registerDocs(app, { version: apiVersion });

  // Routes that declare zod schemas (see apps/api/README.md, "Routes and their schemas"): Fastify
  // validates params, querystring, headers and body with them before the handler runs and
  // serializes each answer through its status's schema; /docs/json describes the same schemas.
  await app.register(async (zodRoutes) => {
    zodRoutes.setValidatorCompiler(validatorCompiler);
    zodRoutes.setSerializerCompiler(serializerCompiler);
    await zodRoutes.register(documentedHealthRoutes, { checks, registry: metrics.registry });
    await zodRoutes.register(tenantAndUserRoutes, { prisma });
    await zodRoutes.register(apiKeyRoutes, { db, keys, maxLiveKeys: config.API_KEYS_PER_TENANT_MAX });
    await zodRoutes.register(productRoutes, { prisma });
    await zodRoutes.register(orderRoutes, { prisma, db });
    await zodRoutes.register(paymentRoutes, { prisma, db });
    await zodRoutes.register(eventRoutes, { db });
    await zodRoutes.register(webhookEndpointRoutes, { prisma, config });
    await zodRoutes.register(eventTypeRoutes);
    await zodRoutes.register(portalLinkRoutes, { prisma, config });
  });
  // The tenant's webhook portal (/portal): its routes declare `access: "portal"`, which the access
  // hook leaves to the plugin's own session check (a link from POST /api/tenants/:id/portal-links).
  await app.register(portalPlugin, {
    database: prisma,
    endpoints: endpointSettingsFromConfig(config),
    signingKey: config.ENCRYPTION_KEY,
    routeConfig: { access: "portal", swaggerTransform: describeRoute },
  });
  if (queues) await registerOutboxAdmin(app, { config, db, queues });
  return app;
}

/**
 * The outbox page, the admin API and Bull Board (outbox-relay/fastify) on the shop's pool and
 * queues. Their routes declare `access: "admin"`, so the access hook (route-access.ts) decides
 * them as it does every route, cross-site writes included; the shop's OpenAPI transform documents them.
 */
async function registerOutboxAdmin(app: FastifyInstance, { config, db, queues }: { config: Env; db: Database; queues: QueueSet }): Promise<void> {
  await app.register(outboxAdminPlugin, {
    catalog: queues.catalog,
    database: db,
    redis: queues.connection,
    queuePrefix: queues.prefix,
    retryBackoffMs: config.RETRY_BACKOFF_MS,
    authenticate: requireAdmin,
    routeConfig: { access: "admin", swaggerTransform: describeRoute },
  });
}
