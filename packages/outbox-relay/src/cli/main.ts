import { adminOf } from "../admin/admin.ts";
import { defineEvents, type EventCatalog } from "../events/index.ts";
import { describeConnectionError } from "../health/index.ts";
import { maskUrlCredentials } from "../logger/index.ts";
import { createQueues, createRedis, isRedisConnectionError, redisPorts, type RedisSettings } from "../queues/index.ts";
import { Database, isPostgresConnectionError, postgresPort } from "../sql/index.ts";
import { checkEventType, parseCommandLine, usage, type Command, type ConnectionFlags, type ParsedCommandLine } from "./args.ts";
import { EncryptionKeyMissingError } from "../webhooks/errors.ts";
import type { EncryptionKeys } from "../webhooks/reencrypt.ts";
import { migrateCommand, asOperationError } from "./commands/migrate.ts";
import { webhookKeysCommand, webhookReencryptCommand, webhookResendAllCommand } from "./commands/webhooks.ts";
import { exitCodes, OperationError, UsageError } from "./errors.ts";
import type { Output } from "./output.ts";
import { runCommand } from "./run.ts";

/** Where a command connects, and the service's catalog when it has one. */
export interface CliSettings {
  databaseUrl: string;
  redis: RedisSettings;
  queuePrefix: string;
  /** The worker's retryBackoffMs, for the jobs a dead-letter retry or skip queues. */
  retryBackoffMs?: number | undefined;
  catalog?: EventCatalog | undefined;
}

export interface CliOptions {
  /** The name the user typed, for the help text: `outbox-relay`, `pnpm outbox`. */
  program: string;
  /** The settings, once the flags are parsed; not called for --help, `migrate` or a usage error. */
  settings(flags: ConnectionFlags): CliSettings | Promise<CliSettings>;
  /** The database of `migrate` and `webhooks`, which need nothing else (default: the settings' databaseUrl). */
  databaseUrl?(flags: ConnectionFlags): string | Promise<string>;
  /** The keys of `webhooks keys|reencrypt` (ENCRYPTION_KEY, ENCRYPTION_KEY_PREVIOUS); without them those commands say no key is set. */
  encryptionKeys?(): EncryptionKeys | Promise<EncryptionKeys>;
  stdout?: Output;
  stderr?: Output;
}

const needsCatalog = new Set<Command["name"]>(["dlq retry", "dlq retry all", "dlq skip", "replay"]);

/**
 * Runs the admin command line (`stats`, `dlq list|retry|skip`, `replay`) and returns its exit code:
 * 0 ok, 1 the operation failed (a message on stderr, JSON with `--json`), 2 bad arguments.
 */
export async function runCli(argv: string[], options: CliOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const json = argv.includes("--json");
  const fail = (code: string, message: string, exitCode: number, hint?: string): number => {
    const text = maskUrlCredentials(message);
    stderr.write(json ? `${JSON.stringify({ error: { code, message: text } })}\n` : `${options.program.split(" ").at(-1)}: ${text}\n${hint ? `${hint}\n` : ""}`);
    return exitCode;
  };
  let parsed: ParsedCommandLine;
  let settings: CliSettings;
  try {
    parsed = parseCommandLine(argv);
    if (parsed.command.name === "help") {
      stdout.write(`${usage(options.program)}\n`);
      return exitCodes.ok;
    }
    const databaseUrl = () => (options.databaseUrl ?? (async (flags: ConnectionFlags) => (await options.settings(flags)).databaseUrl))(parsed.connection);
    if (parsed.command.name === "migrate") {
      return await migrateCommand({ out: stdout, json }, await databaseUrl()).then(
        () => exitCodes.ok,
        (error: OperationError) => fail(error.code, error.message, exitCodes.operation),
      );
    }
    if (parsed.command.name.startsWith("webhooks ")) {
      const keys = (await options.encryptionKeys?.()) ?? { encryptionKey: undefined };
      return await runWebhooks(parsed.command as WebhooksCommand, { out: stdout, json, databaseUrl: await databaseUrl(), keys }).then(
        () => exitCodes.ok,
        (error: OperationError) => fail(error.code, error.message, exitCodes.operation),
      );
    }
    settings = await options.settings(parsed.connection);
    if (settings.catalog) checkEventType(parsed.command, settings.catalog);
    else if (needsCatalog.has(parsed.command.name)) throw new UsageError(`"${parsed.command.name}" needs the service's catalog: --catalog FILE or OUTBOX_RELAY_CATALOG`);
  } catch (error) {
    if (!(error instanceof UsageError)) return fail("CLI_SETTINGS", error instanceof Error ? error.message : String(error), exitCodes.usage);
    return fail(error.code, error.message, exitCodes.usage, `Run "${options.program} --help" for the commands.`);
  }
  return runConnected(parsed as ParsedCommandLine & { command: ConnectedCommand }, settings, { stdout, fail });
}

type WebhooksCommand = Extract<Command, { name: "webhooks keys" | "webhooks reencrypt" | "webhooks resend-all" }>;
type ConnectedCommand = Exclude<Command, { name: "help" | "migrate" } | WebhooksCommand>;

/** `webhooks keys|reencrypt`: on the database alone; every failure is an OperationError. */
async function runWebhooks(command: WebhooksCommand, { databaseUrl, keys, ...output }: { out: Output; json: boolean; databaseUrl: string; keys: EncryptionKeys }) {
  const db = new Database(databaseUrl, { poolSize: 1, applicationName: "outbox-cli" });
  const ctx = { ...output, db, keys };
  try {
    if (command.name === "webhooks resend-all") return await webhookResendAllCommand(ctx, command);
    return command.name === "webhooks keys" ? await webhookKeysCommand(ctx) : await webhookReencryptCommand(ctx, command);
  } catch (error) {
    if (error instanceof EncryptionKeyMissingError) {
      throw new OperationError(error.code, "no encryption key is set: set ENCRYPTION_KEY (and the old keys in ENCRYPTION_KEY_PREVIOUS)", { cause: error });
    }
    throw asOperationError(error, databaseUrl);
  } finally {
    await db.close();
  }
}

async function runConnected(
  { command, json }: ParsedCommandLine & { command: ConnectedCommand },
  settings: CliSettings,
  { stdout, fail }: { stdout: Output; fail: (code: string, message: string, exitCode: number) => number },
): Promise<number> {
  const db = new Database(settings.databaseUrl, { poolSize: 2, applicationName: "outbox-cli" });
  // A command's connection gives up after a few attempts: an unreachable Redis ends the command with the reason.
  const connection = createRedis(settings.redis, "command");
  let redisError: Error | undefined;
  connection.on("error", (error: Error) => (redisError = error));
  const queues = createQueues(connection, settings.queuePrefix, settings.catalog ?? defineEvents({}));
  try {
    await runCommand({ admin: adminOf(db, queues, { retryBackoffMs: settings.retryBackoffMs }), out: stdout, json }, command);
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof OperationError) return fail(error.code, error.message, exitCodes.operation);
    if (isRedisConnectionError(error, redisPorts(settings.redis)) || (redisError && connection.status === "end")) {
      return fail("REDIS_UNREACHABLE", `redis: unreachable (${describeConnectionError(redisError ?? error)}); check REDIS_URL`, exitCodes.operation);
    }
    if (isPostgresConnectionError(error, [postgresPort(settings.databaseUrl)]) || ["3D000", "28P01", "28000"].includes((error as { code?: string }).code ?? "")) {
      return fail("POSTGRES_UNREACHABLE", `postgres: unreachable (${describeConnectionError(error)}); check DATABASE_URL`, exitCodes.operation);
    }
    return fail("OPERATION_FAILED", error instanceof Error ? error.message : String(error), exitCodes.operation);
  } finally {
    await queues.close().catch(() => {});
    connection.disconnect();
    await db.close();
  }
}
