import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase, waitFor } from "@outbox/testing";
import { defineEvents } from "../../src/events/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { batch, definePrismaHandlers, defineHandlers, prismaTransactions, runBatch, type AnyHandlerMap, type EventJob } from "../../src/processor/index.ts";
import { sql } from "../../src/sql/index.ts";

/** Each event names a tenant for its handler to create through the shop's Prisma models. */
const catalog = defineEvents({
  TenantNamed: {
    schema: z.object({ tenantId: z.string(), name: z.string() }),
    aggregate: (p) => ({ type: "tenant", id: p.tenantId }),
    priority: 1,
    policy: { timeoutMs: 1000 },
  },
});

const database = useTestDatabase();
const logger = createLogger({ level: "silent" });
type Prisma = typeof database.prisma;
const prismaHandlers = definePrismaHandlers<Prisma>();

beforeAll(async () => {
  await database.sql.execute(sql`CREATE TABLE effects (event_id uuid NOT NULL)`);
});

async function pendingJobs(names: string[], attemptsMade = 0): Promise<EventJob[]> {
  const jobs: EventJob[] = [];
  for (const name of names) {
    const id = randomUUID();
    const payload = { tenantId: id, name };
    await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${id}::uuid, 'TenantNamed', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb)`);
    const data = { type: "TenantNamed", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: new Date().toISOString(), previousAttempts: 0 };
    jobs.push({ id, attemptsMade, maxAttempts: 3, data });
  }
  return jobs;
}

const run = (handlers: AnyHandlerMap, jobs: EventJob[]) =>
  runBatch({ db: database.sql, catalog, handlers, logger, begin: prismaTransactions(database.prisma, database.sql) }, jobs);

/** The tenants the handlers created, one count per job (its event's tenant id is the job id). */
async function tenantCounts(jobs: EventJob[]): Promise<number[]> {
  const tenants = await database.prisma.tenant.findMany({ where: { id: { in: jobs.map((job) => job.id) } }, select: { id: true } });
  return jobs.map((job) => tenants.filter((tenant) => tenant.id === job.id).length);
}

async function rowOf(id: string) {
  const [row] = await database.sql.query<{ status: string; attempts: number; last_error: string | null }>(sql`
    SELECT status, attempts, last_error FROM event_outbox WHERE id = ${id}::uuid`);
  return row!;
}

/** Creates the event's tenant with Prisma's model; refuses the ones named "bad" after writing. */
const createTenant = prismaHandlers(catalog, {
  TenantNamed: async ({ tx, event }) => {
    const { tenantId, name } = event.payload;
    await tx.tenant.create({ data: { id: tenantId, name, slug: `s-${tenantId}` } });
    if (name === "bad") throw new Error(`handler refused ${event.id}`);
  },
});

describe("handlers in the service's Prisma interactive transaction", () => {
  it("commits a handler's Prisma writes with the event's processed mark", async () => {
    const jobs = await pendingJobs(["a", "b"]);
    expect((await run(createTenant, jobs)).map((o) => o.kind)).toEqual(["handled", "handled"]);
    expect(await tenantCounts(jobs)).toEqual([1, 1]);
    expect(await rowOf(jobs[0]!.id)).toMatchObject({ status: "processed", attempts: 1, last_error: null });
  });

  it("a handler that throws leaves no Prisma write: the event is retried, and dead on its last attempt", async () => {
    const [retried] = await pendingJobs(["bad"]);
    const [last] = await pendingJobs(["bad"], 2);
    expect((await run(createTenant, [retried!])).map((o) => o.kind)).toEqual(["retry"]);
    expect((await run(createTenant, [last!])).map((o) => o.kind)).toEqual(["dead"]);
    expect(await tenantCounts([retried!, last!])).toEqual([0, 0]);
    expect(await rowOf(retried!.id)).toMatchObject({ status: "pending", attempts: 1, last_error: `handler refused ${retried!.id}` });
    expect(await rowOf(last!.id)).toMatchObject({ status: "dead", attempts: 1 });
  });

  it("contains one event's failure in a batch: the others' writes commit (single-event and batch handlers)", async () => {
    const single = await pendingJobs(["a", "bad", "c"]);
    expect((await run(createTenant, single)).map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    expect(await tenantCounts(single)).toEqual([1, 0, 1]);

    const calls: number[] = [];
    const inOneCall = prismaHandlers(catalog, {
      TenantNamed: batch(async ({ tx, events }) => {
        calls.push(events.length);
        await tx.tenant.createMany({ data: events.map((e) => ({ id: e.payload.tenantId, name: e.payload.name, slug: `s-${e.payload.tenantId}` })) });
        const bad = events.find((event) => event.payload.name === "bad");
        if (bad) throw new Error(`handler refused ${bad.id}`);
      }),
    });
    const batched = await pendingJobs(["a", "bad", "c"]);
    expect((await run(inOneCall, batched)).map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    expect(calls).toEqual([3, 3, 1, 1, 1]);
    expect(await tenantCounts(batched)).toEqual([1, 0, 1]);
  });

  it("a duplicate job of a processed event changes nothing", async () => {
    const [job] = await pendingJobs(["once"]);
    expect((await run(createTenant, [job!]))[0]?.kind).toBe("handled");
    expect((await run(createTenant, [job!]))[0]?.kind).toBe("skipped");
    expect(await tenantCounts([job!])).toEqual([1]);
    expect((await rowOf(job!.id)).attempts).toBe(1);
  });

  it("runs handlers written for the engine's Queryable unchanged, with publish and atCommit, in the same transaction", async () => {
    const queryable = defineHandlers(catalog, {
      TenantNamed: async ({ tx, event, publish, atCommit }) => {
        await tx.execute(sql`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`);
        atCommit("effects", [event.id], async (commitTx, ids: string[]) => {
          await commitTx.execute(sql`INSERT INTO effects (event_id) SELECT unnest(${ids}::uuid[])`);
        });
        if (event.payload.name === "parent") await publish({ type: "TenantNamed", payload: { tenantId: randomUUID(), name: "child" } });
      },
    });
    const jobs = await pendingJobs(["parent", "other"]);
    expect((await run(queryable, jobs)).map((o) => o.kind)).toEqual(["handled", "handled"]);
    const effects = await database.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM effects WHERE event_id = ANY(${jobs.map((j) => j.id)}::uuid[])`);
    expect(effects[0]!.n).toBe(4);
    const children = await database.sql.query<{ causation_id: string }>(sql`SELECT causation_id::text FROM event_outbox WHERE causation_id = ${jobs[0]!.id}::uuid`);
    expect(children).toEqual([{ causation_id: jobs[0]!.id }]);
  });

  it("a handler stuck in a statement past its timeout: its backend is ended, the others commit, the client keeps working", async () => {
    const stuck = prismaHandlers(catalog, {
      TenantNamed: async ({ tx, event }) => {
        await tx.tenant.create({ data: { id: event.payload.tenantId, name: event.payload.name, slug: `s-${event.payload.tenantId}` } });
        if (event.payload.name === "stuck") await tx.$executeRaw`SELECT pg_sleep(30)`;
      },
    });
    const jobs = await pendingJobs(["a", "stuck", "c"]);
    const started = performance.now();
    expect((await run(stuck, jobs)).map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await tenantCounts(jobs)).toEqual([1, 0, 1]);
    expect((await rowOf(jobs[1]!.id)).last_error).toBe("TenantNamed handler did not finish within 1000 ms");
    const sleeping = () => database.sql.query(sql`SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`);
    await waitFor(async () => (await sleeping()).length === 0);
    expect(await database.prisma.tenant.count({ where: { id: jobs[0]!.id } })).toBe(1);
  });

  it("runs the batch again after a deadlock reported by Prisma instead of spending an attempt", async () => {
    let deadlocks = 0;
    const handlers = prismaHandlers(catalog, {
      TenantNamed: async ({ tx, event }) => {
        if (deadlocks++ < 2) await tx.$executeRaw`DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$`;
        await tx.tenant.create({ data: { id: event.payload.tenantId, name: event.payload.name, slug: `s-${event.payload.tenantId}` } });
      },
    });
    const jobs = await pendingJobs(["victim"]);
    expect((await run(handlers, jobs)).map((o) => o.kind)).toEqual(["handled"]);
    expect(await rowOf(jobs[0]!.id)).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("refuses a client with a model that would hide tx.query or tx.execute", () => {
    const clashing = { $transaction: () => Promise.resolve(), query: {} };
    expect(() => prismaTransactions(clashing, database.sql)).toThrow(/"query" \(a model\)/);
  });

  it("a connection dropped under a handler: the batch runs again on a new one", async () => {
    let dropped = 0;
    const handlers = prismaHandlers(catalog, {
      TenantNamed: async ({ tx, event }) => {
        await tx.tenant.create({ data: { id: event.payload.tenantId, name: event.payload.name, slug: `s-${event.payload.tenantId}` } });
        if (dropped === 0) {
          // What a Postgres restart does to the connection.
          dropped = await database.sql.execute(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`);
        }
      },
    });
    const jobs = await pendingJobs(["a", "b"]);
    expect((await run(handlers, jobs)).map((o) => o.kind)).toEqual(["handled", "handled"]);
    expect(dropped).toBe(1);
    expect(await tenantCounts(jobs)).toEqual([1, 1]);
    expect((await rowOf(jobs[0]!.id)).attempts).toBe(1);
  });
});

// Types only: a Prisma handler's tx has the models; a plain one's does not.
definePrismaHandlers<Prisma>()(catalog, { TenantNamed: async ({ tx }) => void (await tx.tenant.count()) });
defineHandlers(catalog, {
  // @ts-expect-error a Queryable has no Prisma models
  TenantNamed: async ({ tx }) => void tx.tenant,
});
