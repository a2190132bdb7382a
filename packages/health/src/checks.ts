import type { RedisConnection } from "@outbox/queues";
import { sql, type Queryable } from "@outbox/sql";

/** Postgres answers a trivial query (a connection from the pool, `SELECT 1`, no table read). */
export function postgresCheck(db: Queryable): () => Promise<void> {
  return async () => {
    await db.query(sql`SELECT 1`);
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
