import type { RedisConnection } from "../queues/index.ts";
import { sql, type Queryable } from "../sql/index.ts";

/** Postgres answers a trivial query (a connection from the pool, `SELECT 1`, no table read). */
export function postgresCheck(db: Queryable): () => Promise<void> {
  return async () => {
    await db.query(sql`SELECT 1`);
  };
}

/**
 * Redis answers PING. Give it a producer connection (createRedis(..., "producer"): no offline
 * queue), so a PING fails at once while Redis is down; the check's timeout covers the rest. A
 * failed PING says only that the connection is closed: the check reports the connection's last
 * error instead (connection refused, host not found), kept until the connection is ready again.
 */
export function redisCheck(connection: RedisConnection): () => Promise<void> {
  let lastError: Error | undefined;
  connection.on("error", (error: Error) => (lastError = error));
  connection.on("ready", () => (lastError = undefined));
  return async () => {
    try {
      await connection.ping();
    } catch (error) {
      throw lastError ?? error;
    }
  };
}
