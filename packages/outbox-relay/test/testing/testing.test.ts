import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineHandlers, migrationsDir, PermanentError } from "../../src/index.ts";
import { sql } from "../../src/sql/index.ts";
import { createOutboxTestDatabase, eventJobs, handleEvents, runJobs, type OutboxTestDatabase } from "../../src/testing/index.ts";
import { onServer, serverUrl, testEvents } from "@outbox/testing";

let test: OutboxTestDatabase;

beforeAll(async () => {
  test = await createOutboxTestDatabase(serverUrl);
  await test.db.execute(sql`CREATE TABLE accounts (id text PRIMARY KEY, name text NOT NULL)`);
});
afterAll(async () => {
  await test.drop();
});

const handlers = defineHandlers(testEvents, {
  AccountOpened: async ({ tx, event }) => {
    if (event.payload.name === "refused") throw new PermanentError("refused by policy");
    if (event.payload.name === "flaky") throw new Error("upstream timed out");
    await tx.execute(sql`INSERT INTO accounts (id, name) VALUES (${event.payload.accountId}, ${event.payload.name})`);
  },
  AccountClosed: async () => {},
  ReceiptSent: async () => {},
});

const opened = (name: string) => {
  const accountId = randomUUID();
  return { type: "AccountOpened" as const, payload: { accountId, name, slug: "acme", openedAt: new Date().toISOString() } };
};
const statusOf = async (id: string) => (await test.db.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]?.status;

describe("outbox-relay/testing", () => {
  it("makes a database of the test's own with the package's tables, and drops it", async () => {
    const other = await createOutboxTestDatabase(serverUrl, { prefix: "outbox_testing_probe" });
    const shipped = readdirSync(migrationsDir()).filter((file) => file.endsWith(".sql")).map((file) => file.replace(/\.sql$/, ""));
    const recorded = await other.db.query<{ name: string }>(sql`SELECT name FROM outbox_relay_migrations ORDER BY name`);
    expect(recorded.map((row) => row.name)).toEqual(shipped.sort());
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    await other.drop();
    const left = await onServer((client) => client.query("SELECT 1 FROM pg_database WHERE datname = $1", [other.name]));
    expect(left.rowCount).toBe(0);
  });

  it("runs events through the processor's batch path: effects and marks commit together, a failure stays with its event", async () => {
    const events = [opened("Ada"), opened("flaky"), opened("refused")];
    const results = await handleEvents({ db: test.db, catalog: testEvents, handlers }, events);
    expect(results.map((result) => result.outcome)).toEqual(["handled", "retry", "dead"]);
    const retried = results[1]!;
    expect(retried.outcome === "retry" && retried.error.message).toBe("upstream timed out");
    expect(await statusOf(results[0]!.id)).toBe("processed");
    expect(await statusOf(results[2]!.id)).toBe("dead");
    const accounts = await test.db.query<{ name: string }>(sql`SELECT name FROM accounts WHERE id = ${events[0]!.payload.accountId}`);
    expect(accounts).toEqual([{ name: "Ada" }]);
  });

  it("plays a later attempt: the last one's failure is dead", async () => {
    const [result] = await handleEvents({ db: test.db, catalog: testEvents, handlers, attempt: 3 }, [opened("flaky")]);
    expect(result).toMatchObject({ outcome: "dead" });
  });

  it("runs the jobs of published events as often as asked: the same job again is a redelivery, skipped", async () => {
    const event = opened("Grace");
    const ids = await test.db.transaction((tx) => testEvents.publishMany(tx, [event]));
    const jobs = await eventJobs({ db: test.db, catalog: testEvents }, ids);
    expect(jobs).toMatchObject([{ id: ids[0], data: { type: "AccountOpened", payload: event.payload, previousAttempts: 0 }, attemptsMade: 0 }]);
    expect(await runJobs({ db: test.db, catalog: testEvents, handlers }, jobs)).toEqual([{ id: ids[0], outcome: "handled" }]);
    expect(await runJobs({ db: test.db, catalog: testEvents, handlers }, jobs)).toEqual([{ id: ids[0], outcome: "skipped" }]);
    const accounts = await test.db.query<{ name: string }>(sql`SELECT name FROM accounts WHERE id = ${event.payload.accountId}`);
    expect(accounts).toEqual([{ name: "Grace" }]);
  });
});
