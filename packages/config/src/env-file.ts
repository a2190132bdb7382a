import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "dotenv";

/**
 * The variables `file` sets, or {} when it does not exist. dotenv's parser, not Node's
 * (`process.loadEnvFile` in Node 20 swallows the line after an indented comment): `NAME=value`,
 * quotes kept whole, `# comments` on their own line or after a value, CRLF; a line it cannot read
 * is skipped.
 */
export function envFileValues(file = path.resolve(".env")): Record<string, string> {
  return existsSync(file) ? parse(readFileSync(file)) : {};
}

/**
 * Reads `.env` in the working directory (the repository root for `pnpm start`, `pnpm outbox` and
 * `pnpm db:migrate`) into `env` when the file exists. A variable already set there keeps its value.
 * Returns the file read, or undefined.
 */
export function readEnvFile(file = path.resolve(".env"), env: Record<string, string | undefined> = process.env): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const [name, value] of Object.entries(envFileValues(file))) env[name] ??= value;
  return file;
}
