import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createLogger } from "@outbox/logger";
import { createTestDatabase, type TestDatabase } from "@outbox/testing";
import { runBatch, type EventJob, type HandlerMap } from "../src/index.ts";

let db: TestDatabase;
let prisma: PrismaClient;
const logger = createLogger({ level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  await prisma.$executeRawUnsafe("CREATE TABLE effects (event_id uuid NOT NULL, note text)");
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

async function dispatchedJobs(names: string[]): Promise<EventJob[]> {
  const jobs: EventJob[] = [];
  for (const name of names) {
    const id = randomUUID();
    const payload = { tenantId: id, name, slug: `s-${id.slice(0, 8)}`, createdAt: new Date().toISOString() };
    await prisma.$executeRaw`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status)
      VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb, 'dispatched')`;
    jobs.push({ id, attemptsMade: 0, maxAttempts: 3, data: { type: "TenantCreated", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: new Date().toISOString(), previousAttempts: 0 } });
  }
  return jobs;
}

async function effectCount(id: string): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM effects WHERE event_id = ${id}::uuid`;
  return row!.n;
}

describe("runBatch", () => {
  it("contains one failing handler: the others commit, the failure is recorded, and its effects roll back", async () => {
    const handlers: HandlerMap = {
      TenantCreated: async ({ tx, event }) => {
        await tx.$executeRaw`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`;
        if (event.payload.name === "bad") throw new Error("handler refused");
      },
    };
    const jobs = await dispatchedJobs(["a", "bad", "c"]);
    const outcomes = await runBatch({ prisma, handlers, logger }, jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    expect(await Promise.all(jobs.map((j) => effectCount(j.id)))).toEqual([1, 0, 1]);
    const failed = await prisma.eventOutbox.findUniqueOrThrow({ where: { id: jobs[1]!.id } });
    expect(failed).toMatchObject({ status: "dispatched", attempts: 1, lastError: "handler refused" });
    expect(await prisma.eventInbox.count({ where: { eventId: jobs[1]!.id } })).toBe(0);
  });

  it("skips an event already handled, changing nothing", async () => {
    const handlers: HandlerMap = { TenantCreated: async ({ tx, event }) => void (await tx.$executeRaw`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`) };
    const jobs = await dispatchedJobs(["once"]);
    expect((await runBatch({ prisma, handlers, logger }, jobs))[0]?.kind).toBe("handled");
    expect((await runBatch({ prisma, handlers, logger }, jobs))[0]?.kind).toBe("skipped");
    expect(await effectCount(jobs[0]!.id)).toBe(1);
    expect((await prisma.eventOutbox.findUniqueOrThrow({ where: { id: jobs[0]!.id } })).attempts).toBe(1);
  });

  it("runs the batch again after a deadlock instead of spending an attempt", async () => {
    let deadlocks = 0;
    const handlers: HandlerMap = {
      TenantCreated: async ({ tx, event }) => {
        if (event.payload.name === "victim" && deadlocks++ < 2) {
          await tx.$executeRawUnsafe(`DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$`);
        }
        await tx.$executeRaw`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`;
      },
    };
    const jobs = await dispatchedJobs(["first", "victim"]);
    const outcomes = await runBatch({ prisma, handlers, logger }, jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "handled"]);
    expect(await Promise.all(jobs.map((j) => effectCount(j.id)))).toEqual([1, 1]);
    const rows = await prisma.eventOutbox.findMany({ where: { id: { in: jobs.map((j) => j.id) } } });
    expect(rows.every((row) => row.status === "processed" && row.attempts === 1)).toBe(true);
  });

  it("makes an invalid payload dead at once, and a final failure dead", async () => {
    const handlers: HandlerMap = { TenantCreated: async () => { throw new Error("always"); } };
    const [invalid, last] = await dispatchedJobs(["x", "y"]);
    invalid!.data.payload = { tenantId: 1 };
    last!.attemptsMade = 2;
    const outcomes = await runBatch({ prisma, handlers, logger }, [invalid!, last!]);
    expect(outcomes.map((o) => o.kind)).toEqual(["dead", "dead"]);
    const rows = await prisma.eventOutbox.findMany({ where: { id: { in: [invalid!.id, last!.id] } }, orderBy: { lastError: "asc" } });
    expect(rows.map((r) => r.status)).toEqual(["dead", "dead"]);
    expect(rows.map((r) => r.lastError).join(" ")).toMatch(/always.*invalid TenantCreated payload|invalid TenantCreated payload.*always/);
  });
});
