import { loadConfigOrExit } from "@outbox/config";
import { createPrisma } from "@outbox/db";
import { createLogger } from "@outbox/logger";
import { createQueues, createRedis } from "@outbox/queues";
import { Database } from "@outbox/sql";
import { buildApp } from "./app.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "api", environment: config.NODE_ENV });
// One pool for the process: the engine's statements run on it, and Prisma on top of it.
const db = new Database(config.DATABASE_URL, {
  applicationName: "outbox-api",
  onIdleError: (error) => logger.warn({ err: error }, "an idle Postgres connection failed; the pool replaces it"),
});
const prisma = createPrisma(db.pool);
const connection = createRedis({ url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) }, "producer");
connection.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error; /readyz reports it"));
const queues = createQueues(connection, config.QUEUE_PREFIX);
const app = await buildApp({ config, db, prisma, logger, queues });

let closing: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  closing ??= (async () => {
    logger.info({ signal }, "api shutting down");
    await app.close();
    await queues.close();
    connection.disconnect();
    await prisma.$disconnect();
    await db.close();
    logger.info("api stopped");
  })();
  return closing;
}
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "api shutdown failed");
        process.exit(1);
      },
    );
  });
}

await app.listen({ host: config.HOST, port: config.PORT });
