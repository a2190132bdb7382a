import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "@outbox/db";
import { onDatabase, testServers } from "./test-servers.ts";

/** The server tests run against (testServers); each run makes its own databases on it and drops them. */
export const serverUrl = testServers().postgres;

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  return onDatabase(serverUrl, name);
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
