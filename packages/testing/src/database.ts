import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "@outbox/db";

/** The server tests run against; each run makes its own databases on it and drops them. */
export const serverUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres:postgres@127.0.0.1:5432/postgres";

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

export async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A migrated database that test databases are cloned from (CREATE DATABASE ... TEMPLATE). */
export async function createTemplateDatabase(): Promise<string> {
  const name = uniqueName("outbox_template");
  await migrate(databaseUrl(name));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(template = process.env.OUTBOX_TEST_TEMPLATE): Promise<TestDatabase> {
  if (!template) throw new Error("OUTBOX_TEST_TEMPLATE is not set: run tests through vitest's global setup");
  const name = uniqueName("outbox_test");
  await onServer((client) =>
    client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`),
  );
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}
