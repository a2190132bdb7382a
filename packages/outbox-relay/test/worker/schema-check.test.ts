import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestRedis, databaseUrl, dropDatabase, freePort, onServer, testEvents, uniqueName, waitFor } from "@outbox/testing";
import { defineHandlers, migrate, readOutboxMigration, StartAbortedError, startWorker, type RunningWorker } from "../../src/index.ts";
import { engineMigrations, migrationsDir } from "../../src/schema/migrations.ts";

const redis = createTestRedis();
const databases: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
const names = engineMigrations.map((migration) => migration.name);
const [first, second] = names as [string, string];
const last = names.at(-1)!;
const checkIntervalMs = 100;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await redis.clean();
  for (const name of databases) await dropDatabase(name);
});

/** A new database holding what `schemaSql` makes. */
async function databaseWith(schemaSql: string): Promise<string> {
  const name = uniqueName("outbox_schema_check");
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  databases.push(name);
  await runSql(databaseUrl(name), schemaSql);
  return databaseUrl(name);
}

async function runSql(url: string, text: string): Promise<void> {
  const db = new Database(url, { poolSize: 1 });
  const connection = await db.connect();
  await connection.run(text).finally(() => connection.release());
  await db.close();
}

interface Line {
  level: number;
  msg: string;
}

function captureLogs() {
  const lines: Line[] = [];
  const logger = createLogger({ level: "info", destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) } });
  return { logger, lines, errors: () => lines.filter((line) => line.level >= 50).map((line) => line.msg) };
}

const handlers = defineHandlers(testEvents, { AccountOpened: async () => {}, AccountClosed: async () => {}, ReceiptSent: async () => {} });

/** startWorker on the database, its health listener on a port known before the start resolves. */
async function startOn(url: string, logger: ReturnType<typeof createLogger>, options: { migrateCommand?: string; signal?: AbortSignal } = {}) {
  const healthPort = await freePort();
  const starting = startWorker({
    catalog: testEvents,
    handlers,
    databaseUrl: url,
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    healthPort,
    schemaCheckIntervalMs: checkIntervalMs,
    logger,
    ...options,
  });
  let worker: RunningWorker | undefined;
  void starting.then((started) => (worker = started), () => undefined);
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  return { starting, healthPort, started: () => worker !== undefined };
}

async function readyz(port: number): Promise<{ status: number; body: { error?: string; checks?: Record<string, string> } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { error?: string; checks?: Record<string, string> } };
}

const notReady = (port: number) => waitFor(async () => ((await readyz(port).catch(() => undefined))?.status === 503 ? readyz(port) : undefined), { message: "/readyz to answer 503" });

describe("a worker on a database that lacks a migration", () => {
  it("on the oldest version's schema: answers /readyz 503 naming the migration, logs the command once, runs no relay step, starts once migrate() has run", async () => {
    const url = await databaseWith(readFileSync(path.join(migrationsDir(), `${first}.sql`), "utf8"));
    const logs = captureLogs();
    const worker = await startOn(url, logs.logger);

    const answer = await notReady(worker.healthPort);
    const lacking = `the database lacks migration ${second} (no column event_outbox.traceparent; no row 'default' in outbox_relay_cursor), then ${names.slice(3).join(", ")}: run \`outbox-relay migrate\``;
    expect(answer.body).toMatchObject({ error: `schema: ${lacking}`, checks: { postgres: "ok", redis: "ok", schema: lacking } });
    await sleep(10 * checkIntervalMs); // ten checks more: still one line
    expect(logs.errors()).toEqual([`${lacking}; the worker waits for it (/readyz answers 503)`]);
    expect(logs.lines.map((line) => line.msg).join("\n")).not.toMatch(/does not exist|worker started/);
    expect(worker.started()).toBe(false);

    await migrate(url);
    const running = await worker.starting;
    expect((await readyz(worker.healthPort)).status).toBe(200);
    expect(logs.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(["the database has every outbox migration now: starting", "worker started"]));
    const id = await testEvents.publish(running.db, { type: "AccountOpened", payload: { accountId: "a-1", name: "Ada", slug: "ada", openedAt: new Date().toISOString() } });
    await waitFor(async () => (await running.db.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]?.status === "processed", {
      message: "the event published after the upgrade to be processed",
    });
  });

  it("without outbox_relay_cursor: names the first migration and the command given; a stop while it waits ends the start; a restart after the migration is ready", async () => {
    const url = await databaseWith(`${readOutboxMigration()}\nDROP TABLE outbox_relay_cursor;`);
    const logs = captureLogs();
    const abort = new AbortController();
    const worker = await startOn(url, logs.logger, { migrateCommand: "pnpm db:migrate", signal: abort.signal });

    const lacking = `the database lacks migration ${first} (no table outbox_relay_cursor), then ${second}: run \`pnpm db:migrate\``;
    expect((await notReady(worker.healthPort)).body.checks?.schema).toBe(lacking);
    abort.abort();
    await expect(worker.starting).rejects.toBeInstanceOf(StartAbortedError);
    expect(logs.errors()).toEqual([`${lacking}; the worker waits for it (/readyz answers 503)`]);

    expect((await migrate(url)).applied).toEqual(names);
    const restarted = await startOn(url, captureLogs().logger);
    await restarted.starting;
    expect((await readyz(restarted.healthPort)).status).toBe(200);
  });

  it("migrated by an older version (its record lacks the last migration): names it, and starts once migrate() has run", async () => {
    const url = await databaseWith("SELECT 1");
    await migrate(url);
    await runSql(url, `DELETE FROM outbox_relay_migrations WHERE name = '${last}'`);
    const logs = captureLogs();
    const worker = await startOn(url, logs.logger);

    expect((await notReady(worker.healthPort)).body.checks?.schema).toBe(`the database lacks migration ${last}: run \`outbox-relay migrate\``);
    expect(await migrate(url)).toEqual({ applied: [last], baselined: [] });
    await worker.starting;
    expect((await readyz(worker.healthPort)).status).toBe(200);
  });
});
