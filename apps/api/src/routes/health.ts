import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient } from "@outbox/db";
import type { RedisConnection } from "@outbox/queues";

export const readinessTimeoutMs = 2000;

async function check(work: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${readinessTimeoutMs} ms`)), readinessTimeoutMs);
      }),
    ]);
    return "ok";
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness answers while the process runs; readiness needs Postgres and Redis to answer. */
export const healthRoutes: FastifyPluginCallback<{ prisma: PrismaClient; redis: RedisConnection | undefined }> = (app, { prisma, redis }, done) => {
  app.get("/healthz", () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const [postgres, redisState] = await Promise.all([
      check(() => prisma.$queryRaw`SELECT 1`),
      redis ? check(() => redis.ping()) : Promise.resolve("failed: not configured"),
    ]);
    const checks = { postgres, redis: redisState };
    const failed = Object.entries(checks).filter(([, state]) => state !== "ok").map(([name]) => name);
    if (failed.length === 0) return { status: "ready", checks };
    return reply.status(503).send({ status: "not ready", error: `${failed.join(" and ")} unreachable`, checks });
  });
  done();
};
