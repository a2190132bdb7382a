export {
  createTemplateDatabase,
  createTestDatabase,
  databaseUrl,
  dropDatabase,
  onServer,
  serverUrl,
  uniqueName,
  type TestDatabase,
} from "./database.ts";
export { createTestRedis, deleteKeys, redisUrl, type TestRedis } from "./redis.ts";
export { onDatabase, testServers, type TestServers } from "./test-servers.ts";
export { nodeBinary } from "./node-binary.ts";
export { waitFor } from "./wait.ts";
export { freePort, startPrivateRedis, startRedisCluster, type PrivateRedis, type RedisCluster } from "./servers.ts";
export { useTestDatabase, type TestDatabaseHandle } from "./use-database.ts";
/** A Prisma client of the shop's schema on any URL (a private server's database). */
export { createPrisma } from "@outbox/db";
export { forbidModules, importFailure, prismaModules } from "./module-graph.ts";
export { startPrivatePostgres, type PrivatePostgres } from "./postgres-server.ts";
export { previousTestEvents, testEvents } from "./events.ts";
