import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import type { Logger } from "@outbox/logger";
import { healthRoutes, postgresCheck, readinessOf, redisCheck } from "@outbox/health";
import { createMetrics } from "@outbox/metrics";
import type { QueueSet, RedisConnection } from "@outbox/queues";
import type { Database } from "@outbox/sql";
import { collectStats } from "@outbox/stats";
import { bodyLimitBytes, errorHandler } from "./errors.ts";
import { registerLoadShedding } from "./load-shedding.ts";
import { adminRoutes } from "./routes/admin.ts";
import { eventRoutes } from "./routes/events.ts";
import { orderRoutes } from "./routes/orders.ts";
import { paymentRoutes } from "./routes/payments.ts";
import { productRoutes } from "./routes/products.ts";
import { tenantAndUserRoutes } from "./routes/tenants-users.ts";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints.ts";

export interface AppOptions {
  config: Env;
  /** The pool: the engine's statements (stats, dead-letter operations, replay, event state, readiness). */
  db: Database;
  /** Application code's client, built on the same pool (createPrisma(db.pool)). */
  prisma: PrismaClient;
  logger: Logger;
  /** The queues (for the admin UI); their connection also answers the readiness check. */
  queues?: QueueSet;
  /** The Redis readiness pings when no queues are given. */
  redis?: RedisConnection;
}

/** The HTTP API as a Fastify instance; main.ts listens, tests call `inject`. */
export async function buildApp({ config, db, prisma, logger, queues, redis }: AppOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = logger.child({ component: "api" });
  const app = Fastify({
    loggerInstance,
    bodyLimit: bodyLimitBytes,
  });
  app.setErrorHandler(errorHandler);
  await registerLoadShedding(app, { maxInFlight: config.API_MAX_IN_FLIGHT, maxEventLoopDelayMs: 1000 });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `route ${request.method} ${request.url.split("?")[0]} not found`, code: "ROUTE_NOT_FOUND" }),
  );

  const pingable = queues?.connection ?? redis;
  const checks = {
    postgres: postgresCheck(db),
    redis: pingable ? redisCheck(pingable) : () => Promise.reject(new Error("not configured")),
  };
  const metrics = createMetrics({ ...(queues ? { stats: () => collectStats(db, queues) } : {}), readiness: () => readinessOf(checks) });
  await app.register(healthRoutes, { checks, registry: metrics.registry });
  await app.register(tenantAndUserRoutes, { prisma });
  await app.register(productRoutes, { prisma });
  await app.register(orderRoutes, { prisma, db });
  await app.register(paymentRoutes, { prisma, db });
  await app.register(eventRoutes, { db });
  await app.register(webhookEndpointRoutes, { prisma, config });
  if (queues) await app.register(adminRoutes, { config, db, queues });
  return app;
}
