import path from "node:path";
import { envFileValues, loadConfig } from "@outbox/config";

type Source = Record<string, string | undefined>;

export interface TestServers {
  /** The Postgres server's `postgres` database: tests make their own databases beside it. */
  postgres: string;
  redis: string;
}

/**
 * The Postgres and Redis servers tests use: TEST_DATABASE_URL / TEST_REDIS_URL when set, else
 * DATABASE_URL / REDIS_URL as every process reads them (the environment, then `.env` in the working
 * directory), else their defaults. Only the server is taken from DATABASE_URL, never its database.
 */
export function testServers(env: Source = process.env, file = path.resolve(".env")): TestServers {
  const saved = envFileValues(file);
  const pick = (name: string) => env[`TEST_${name}`] || saved[`TEST_${name}`] || env[name] || saved[name];
  const config = loadConfig({ DATABASE_URL: pick("DATABASE_URL"), REDIS_URL: pick("REDIS_URL") });
  return { postgres: onDatabase(config.DATABASE_URL, "postgres"), redis: config.REDIS_URL };
}

/** `url` naming database `name`: the same credentials, host, port and options. */
export function onDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  // Explicit, so that a test can name the server as host:port the way describeDatabase does.
  parsed.port ||= "5432";
  return parsed.toString();
}
