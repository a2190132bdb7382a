import type { PrismaClient } from "@outbox/db";
import type { RedisConnection } from "@outbox/queues";

/** Postgres answers a trivial query. */
export function postgresCheck(prisma: PrismaClient): () => Promise<void> {
  return async () => {
    await prisma.$queryRaw`SELECT 1`;
  };
}

/**
 * Redis answers PING. Give it a producer connection (createRedis(..., "producer"): no offline
 * queue), so a PING fails at once while Redis is down; the check's timeout covers the rest.
 */
export function redisCheck(connection: RedisConnection): () => Promise<void> {
  return async () => {
    await connection.ping();
  };
}
