import { loadConfigOrExit } from "@outbox/config";
import { createLogger } from "@outbox/logger";
import { migrate } from "../migrate.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "migrate", environment: config.NODE_ENV });
try {
  const { created, applied } = await migrate(config.DATABASE_URL);
  logger.info({ created, applied }, applied.length ? "migrations applied" : "database is up to date");
} catch (error) {
  logger.fatal({ err: error }, "migration failed");
  process.exitCode = 1;
}
