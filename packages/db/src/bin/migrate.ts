import { loadConfigOrExit } from "@outbox/config";
import { createLogger } from "outbox-relay";
import { describeDatabase, migrate } from "../migrate.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "migrate", environment: config.NODE_ENV });
try {
  const { database, created, applied } = await migrate(config.DATABASE_URL);
  const what = created ? `created database ${database.name} on ${database.server}` : `database ${database.name} on ${database.server}`;
  const done = applied.length ? `applied ${applied.length} migration${applied.length === 1 ? "" : "s"}` : "up to date";
  logger.info({ database: database.name, server: database.server, created, applied }, `${what}: ${done}`);
} catch (error) {
  logger.fatal({ err: error, database: describeDatabase(config.DATABASE_URL).name }, "migration failed");
  process.exitCode = 1;
}
