import { randomUUID } from "node:crypto";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { InvalidEventError } from "../../src/events/index.ts";
import { databaseUrl, dropDatabase, onServer, testEvents, uniqueName, useTestDatabase, waitFor } from "@outbox/testing";
import { listenForOutbox } from "../../src/outbox/index.ts";

const database = useTestDatabase();

const accountOpened = (accountId: string, slug: string) => ({
  type: "AccountOpened" as const,
  payload: { accountId, name: "Acme", slug, openedAt: new Date().toISOString() },
});

// The business table of the test catalog's service, beside the outbox.
beforeAll(async () => {
  await database.prisma.$executeRaw`CREATE TABLE account (id text PRIMARY KEY, name text NOT NULL)`;
});

type Tx = Parameters<Parameters<typeof database.prisma.$transaction>[0]>[0];
const openAccount = (tx: Tx, accountId: string) => tx.$executeRaw`INSERT INTO account (id, name) VALUES (${accountId}, 'Acme')`;

async function outboxCount(aggregateId: string) {
  return database.prisma.eventOutbox.count({ where: { aggregateId } });
}

async function accountCount(accountId: string): Promise<number> {
  const [row] = await database.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM account WHERE id = ${accountId}`;
  return row!.n;
}

describe("publish", () => {
  it("commits the outbox row together with the business row", async () => {
    const accountId = randomUUID();
    const eventId = await database.prisma.$transaction(async (tx) => {
      await openAccount(tx, accountId);
      return testEvents.publish(tx, accountOpened(accountId, "acme"));
    });
    const row = await database.prisma.eventOutbox.findUniqueOrThrow({ where: { id: eventId } });
    expect(row).toMatchObject({
      eventType: "AccountOpened",
      aggregateType: "account",
      aggregateId: accountId,
      status: "pending",
      attempts: 0,
      dispatchedAt: null,
      processedAt: null,
      lastError: null,
      // No OpenTelemetry SDK registered: no active span, nothing to continue.
      traceparent: null,
    });
    expect(row.payload).toMatchObject({ accountId, slug: "acme" });
    expect(await accountCount(accountId)).toBe(1);
  });

  it("rolls back with the business row when the transaction fails later", async () => {
    const accountId = randomUUID();
    await expect(
      database.prisma.$transaction(async (tx) => {
        await openAccount(tx, accountId);
        await testEvents.publish(tx, accountOpened(accountId, "acme"));
        throw new Error("business rule failed after publish");
      }),
    ).rejects.toThrow("business rule failed after publish");
    expect(await outboxCount(accountId)).toBe(0);
    expect(await accountCount(accountId)).toBe(0);
  });

  it("refuses a bad payload with a typed error naming the field, and the whole transaction rolls back", async () => {
    const accountId = randomUUID();
    const attempt = database.prisma.$transaction(async (tx) => {
      await openAccount(tx, accountId);
      await testEvents.publishMany(tx, [
        accountOpened(accountId, "fine"),
        { type: "AccountOpened", payload: { accountId, name: "Acme", slug: "Not A Slug", openedAt: "yesterday" } },
      ]);
    });
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).issues.map((i) => i.path).sort()).toEqual(["openedAt", "slug"]);
    expect((error as Error).message).toMatch(/slug must be lowercase letters, digits and dashes/);
    expect(await outboxCount(accountId)).toBe(0);
    expect(await accountCount(accountId)).toBe(0);
  });

  it("keeps the order of a batch in its sequence numbers", async () => {
    const accountId = randomUUID();
    const now = new Date().toISOString();
    const events = ["first", "second", "third"].map((reason) => ({
      type: "AccountClosed" as const,
      payload: { accountId, reason, closedAt: now },
    }));
    await database.prisma.$transaction((tx) => testEvents.publishMany(tx, events));
    const rows = await database.prisma.eventOutbox.findMany({ where: { aggregateId: accountId }, orderBy: { sequence: "asc" } });
    expect(rows.map((r) => (r.payload as { reason: string }).reason)).toEqual(["first", "second", "third"]);
  });

  it("records on each row whether its type runs in its aggregate's order", async () => {
    const accountId = randomUUID();
    const ids = await database.prisma.$transaction((tx) =>
      testEvents.publishMany(tx, [accountOpened(accountId, `acme-${accountId}`), { type: "ReceiptSent", payload: { receiverId: randomUUID(), accountId } }]),
    );
    const rows = await database.prisma.eventOutbox.findMany({ where: { id: { in: ids } }, orderBy: { sequence: "asc" } });
    expect(rows.map((row) => [row.eventType, row.ordered])).toEqual([
      ["AccountOpened", true],
      ["ReceiptSent", false],
    ]);
  });

  it("accepts a row written by plain SQL with only the required columns", async () => {
    const id = randomUUID();
    await database.prisma.$executeRaw`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${id}::uuid, 'AccountOpened', 'account', 't-sql', '{}'::jsonb)`;
    const row = await database.prisma.eventOutbox.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("pending");
    expect(row.attempts).toBe(0);
    expect(row.ordered).toBe(true);
    expect(row.availableAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await expect(database.prisma.$executeRaw`UPDATE event_outbox SET status = 'lost' WHERE id = ${id}::uuid`).rejects.toThrow(
      /event_outbox_status_check/,
    );
  });
});

describe("NOTIFY on commit", () => {
  it("arrives after commit, once per transaction, and never for a rollback", async () => {
    let notifications = 0;
    const listener = await listenForOutbox({ databaseUrl: database.db.url, onNotify: () => notifications++ });
    try {
      const client = new pg.Client({ connectionString: database.db.url });
      await client.connect();
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
         SELECT gen_random_uuid(), 'AccountOpened', 'account', 'n' || g, '{}' FROM generate_series(1, 3) g`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(notifications).toBe(0);
      await client.query("COMMIT");
      await waitFor(() => notifications === 1, { message: "a notification after commit" });

      await client.query("BEGIN");
      await client.query(`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
        VALUES (gen_random_uuid(), 'AccountOpened', 'account', 'rolled-back', '{}')`);
      await client.query("ROLLBACK");
      await client.end();

      await database.prisma.$transaction((tx) => testEvents.publish(tx, accountOpened(randomUUID(), "after")));
      await waitFor(() => notifications === 2, { message: "the notification of the Prisma publish" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(notifications).toBe(2);
    } finally {
      await listener.close();
    }
  });
});

describe("the outbox listener", () => {
  it("starts while its database cannot be reached yet, says why, and listens once it can", async () => {
    const name = uniqueName("outbox_listen");
    const errors: Error[] = [];
    let notifications = 0;
    const listener = await listenForOutbox({ databaseUrl: databaseUrl(name), onNotify: () => notifications++, onError: (error) => errors.push(error), reconnectDelayMs: 100 });
    try {
      await waitFor(() => errors.length >= 2, { message: "the failed attempts reported" });
      expect((errors[0] as Error & { code?: string }).code).toBe("3D000");
      await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(process.env.OUTBOX_TEST_TEMPLATE!)}`));
      await waitFor(() => notifications >= 1, { message: "the wake-up after it connected" });
      const before = notifications;
      const client = new pg.Client({ connectionString: databaseUrl(name) });
      await client.connect();
      await client.query(`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload) VALUES (gen_random_uuid(), 'AccountOpened', 'account', 'late', '{}')`);
      await client.end();
      await waitFor(() => notifications > before, { message: "a notification on the new connection" });
    } finally {
      await listener.close();
      await dropDatabase(name);
    }
  });
});
