import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import type { Logger } from "@outbox/logger";
import { healthRoutes, postgresCheck, redisCheck } from "@outbox/health";
import { createMetrics } from "@outbox/metrics";
import type { QueueSet, RedisConnection } from "@outbox/queues";
import type { Database } from "@outbox/sql";
import { collectStats } from "@outbox/stats";
import { bodyLimitBytes, errorHandler } from "./errors.ts";
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

/** The HTTP API as a Fastify instance; main.ts listens, tests call `inject`. */
export async function buildApp({ config, db, prisma, logger, queues, redis }: AppOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = logger.child({ component: "api" });
  const app = Fastify({
    loggerInstance,
    bodyLimit: bodyLimitBytes,
    logController: new RequestLog(),
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `route ${request.method} ${request.url.split("?")[0]} not found`, code: "ROUTE_NOT_FOUND" }),
  );

  const pingable = queues?.connection ?? redis;
  const metrics = createMetrics(queues ? { stats: () => collectStats(db, queues) } : {});
  await app.register(healthRoutes, {
    checks: {
      postgres: postgresCheck(db),
      redis: pingable ? redisCheck(pingable) : () => Promise.reject(new Error("not configured")),
    },
    registry: metrics.registry,
  });
  await app.register(tenantAndUserRoutes, { prisma });
  await app.register(productRoutes, { prisma });
  await app.register(orderRoutes, { prisma });
  await app.register(paymentRoutes, { prisma });
  await app.register(eventRoutes, { db });
  await app.register(webhookEndpointRoutes, { prisma, config });
  if (queues) await app.register(adminRoutes, { config, db, queues });
  return app;
}
