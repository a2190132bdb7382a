import { ConfigError, loadConfigOrExit } from "@outbox/config";
import { createPrisma } from "@outbox/db";
import { orderEvents } from "@outbox/domain";
import { type DependencyWatch, watchPostgres, watchRedis } from "outbox-relay/fastify";
import { createLogger, createRedis, Database, onStopSignals } from "outbox-relay";
import { createQueues } from "outbox-relay/admin";
import { buildApp } from "./app.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "api", environment: config.NODE_ENV });
// One pool for the process: the engine's statements run on it, and Prisma on top of it.
const db = new Database(config.DATABASE_URL, {
  applicationName: "outbox-api",
  // A request that cannot get a connection within a second answers 503 rather than queueing on.
  connectionTimeoutMs: 1000,
  onIdleError: (error) => {
    if (!postgres.failed(error)) logger.warn({ err: error }, "an idle Postgres connection failed; the pool replaces it");
  },
});
// One warning when a store goes away and one when it is back (requests that need it answer 5xx
// meanwhile, and /readyz names it); not a line per retry.
const postgres: DependencyWatch = watchPostgres(db, config.DATABASE_URL, logger);
const prisma = createPrisma(db.pool);
const redisSettings = { url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) };
const connection = createRedis(redisSettings, "producer");
const redis = watchRedis({ connections: [connection], probeWith: connection, settings: redisSettings, logger });
const queues = createQueues(connection, config.QUEUE_PREFIX, orderEvents);
const app = await buildApp({ config, db, prisma, logger, queues }).catch((error: unknown) => {
  // A setting that is valid alone but not here (ADMIN_PASSWORD unset outside development): one line, as loadConfigOrExit.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
});

let closing: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  closing ??= (async () => {
    logger.info({ signal }, "api shutting down");
    await app.close();
    await queues.close();
    redis.stop();
    postgres.stop();
    connection.disconnect();
    await prisma.$disconnect();
    await db.close();
    logger.info("api stopped");
  })();
  return closing;
}
// outbox-relay/shutdown's rule: the first SIGTERM/SIGINT closes gracefully; a second within 2 s is the
// same request (Ctrl-C and pnpm's copy of it); a third, or a later one, exits at once.
onStopSignals({
  graceful(signal) {
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "api shutdown failed");
        process.exit(1);
      },
    );
  },
  force(signal) {
    logger.warn({ signal }, "signal again; exiting now");
    process.exit(1);
  },
});

await app.listen({ host: config.HOST, port: config.PORT });
