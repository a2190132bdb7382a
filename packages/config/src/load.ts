import { existsSync } from "node:fs";
import path from "node:path";
import { envSchema, type Env } from "./schema.ts";

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

type Source = Record<string, string | undefined>;

/**
 * Reads `.env` in the working directory (the repository root for `pnpm start`, `pnpm outbox` and
 * `pnpm db:migrate`) into process.env, when the file exists: Node's own parser (`process.loadEnvFile`,
 * the `--env-file` format: `NAME=value`, quotes, `#` comments). A variable already set in the
 * environment keeps its value. Returns the file read, or undefined.
 */
export function readEnvFile(file = path.resolve(".env")): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}

/** Parses the environment once. Empty strings count as unset. Values never appear in errors. */
export function loadConfig(source: Source = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
}

/**
 * For process entry points: reads `.env` (readEnvFile) unless given a source, then parses; a bad
 * value ends the process with one line naming the variable.
 */
export function loadConfigOrExit(source?: Source): Env {
  try {
    if (source === undefined) readEnvFile();
    return loadConfig(source ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}
