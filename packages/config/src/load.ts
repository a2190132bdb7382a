import path from "node:path";
import { ensureDevelopmentSecrets, type DevelopmentSecret } from "./development-secrets.ts";
import { readEnvFile } from "./env-file.ts";
import { envSchema, type Env } from "./schema.ts";

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

type Source = Record<string, string | undefined>;

/** Parses the environment once. Empty strings count as unset. Values never appear in errors. */
export function loadConfig(source: Source = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
}

/**
 * For process entry points: unless given a source, reads `.env` (readEnvFile) and, on a development
 * start, takes ADMIN_PASSWORD and ENCRYPTION_KEY from it or generates them into it
 * (prepareDevelopmentSecrets); then parses. A bad value ends the process with one line naming the
 * variable.
 */
export function loadConfigOrExit(source?: Source): Env {
  try {
    if (source === undefined) prepareEnvironment();
    return loadConfig(source ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}

/** readEnvFile, then, when NODE_ENV is development (its default), prepareDevelopmentSecrets. */
function prepareEnvironment(file = path.resolve(".env")): void {
  readEnvFile(file);
  if ((process.env.NODE_ENV || "development") === "development") prepareDevelopmentSecrets(file);
}

/**
 * A development start without ADMIN_PASSWORD or ENCRYPTION_KEY: takes them from `file`, or
 * generates strong random ones and appends them there (mode 0600), so every later start and every
 * process (API, worker, CLI) shares them. Says once, on stderr, where they are; never their value.
 */
export function prepareDevelopmentSecrets(file = path.resolve(".env"), env: Source = process.env): DevelopmentSecret[] {
  const generated = writeOrExplain(file, env);
  if (generated.length > 0) process.stderr.write(`${generatedNotice(generated, file)}\n`);
  return generated;
}

/** ensureDevelopmentSecrets; a `.env` that cannot be written is a ConfigError naming the variables to set instead. */
function writeOrExplain(file: string, env: Source): DevelopmentSecret[] {
  try {
    return ensureDevelopmentSecrets(file, env);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    throw new ConfigError([`ADMIN_PASSWORD and ENCRYPTION_KEY are not set and ${file} could not hold generated ones (${code}): set them`]);
  }
}

function generatedNotice(names: DevelopmentSecret[], file: string): string {
  const [subject, what, it] = names.length === 1 ? [`${names[0]} was not set`, "a random value", "it"] : [`${names.join(" and ")} were not set`, "random values", "them"];
  return `${subject}: generated ${what} and saved ${it} in ${file} (mode 0600), where every later start reads ${it}; never printed: look there`;
}
