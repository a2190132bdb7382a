import { loadConfigOrExit } from "@outbox/config";
import { orderEvents } from "@outbox/domain";
import { describeConnectionError } from "@outbox/health";
import { maskUrlCredentials } from "@outbox/logger";
import { createQueues, createRedis, isRedisConnectionError, redisPorts } from "@outbox/queues";
import { Database, isPostgresConnectionError, postgresPort } from "@outbox/sql";
import { parseCommandLine, usage, type ParsedCommandLine } from "./args.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { exitCodes, OperationError, UsageError } from "./errors.ts";
import { runCommand } from "./run.ts";

function fail(json: boolean, code: string, message: string, exitCode: number, hint?: string): number {
  const text = maskUrlCredentials(message);
  process.stderr.write(json ? `${JSON.stringify({ error: { code, message: text } })}\n` : `outbox: ${text}\n${hint ? `${hint}\n` : ""}`);
  return exitCode;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return fail(argv.includes("--json"), error.code, error.message, exitCodes.usage, 'Run "pnpm outbox --help" for the commands.');
  }
  const { command, json } = parsed;
  if (command.name === "help") {
    process.stdout.write(`${usage}\n`);
    return exitCodes.ok;
  }

  if (command.name === "migrate") {
    // Only the database: no Redis, and no configuration read when the URL is given.
    const databaseUrl = command.databaseUrl ?? loadConfigOrExit().DATABASE_URL;
    return migrateCommand({ out: process.stdout, json }, databaseUrl).then(
      () => exitCodes.ok,
      (error: OperationError) => fail(json, error.code, error.message, exitCodes.operation),
    );
  }

  const config = loadConfigOrExit();
  const db = new Database(config.DATABASE_URL, { poolSize: 2, applicationName: "outbox-cli" });
  const redisSettings = { url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) };
  // A command's connection gives up after a few attempts: an unreachable Redis ends the command with the reason.
  const connection = createRedis(redisSettings, "command");
  let redisError: Error | undefined;
  connection.on("error", (error: Error) => (redisError = error));
  const queues = createQueues(connection, config.QUEUE_PREFIX, orderEvents);
  try {
    await runCommand({ db, queues, retryBackoffMs: config.RETRY_BACKOFF_MS, out: process.stdout, json }, command);
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof OperationError) return fail(json, error.code, error.message, exitCodes.operation);
    if (isRedisConnectionError(error, redisPorts(redisSettings)) || (redisError && connection.status === "end")) {
      return fail(json, "REDIS_UNREACHABLE", `redis: unreachable (${describeConnectionError(redisError ?? error)}); check REDIS_URL`, exitCodes.operation);
    }
    if (isPostgresConnectionError(error, [postgresPort(config.DATABASE_URL)]) || ["3D000", "28P01", "28000"].includes((error as { code?: string }).code ?? "")) {
      return fail(json, "POSTGRES_UNREACHABLE", `postgres: unreachable (${describeConnectionError(error)}); check DATABASE_URL`, exitCodes.operation);
    }
    const message = error instanceof Error ? error.message : String(error);
    return fail(json, "OPERATION_FAILED", message, exitCodes.operation);
  } finally {
    await queues.close().catch(() => {});
    connection.disconnect();
    await db.close();
  }
}

// A reader that closed the pipe early (`pnpm outbox dlq list | head`) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
