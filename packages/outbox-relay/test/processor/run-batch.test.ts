import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { sql } from "../../src/sql/index.ts";
import { useTestDatabase } from "@outbox/testing";
import { z } from "zod";
import { defineEvents } from "../../src/events/index.ts";
import { batch as anyBatch, runBatch, type BatchHandler, type EventJob, type HandlerMap as AnyHandlerMap } from "../../src/processor/index.ts";

/** A catalog of this test's own: the engine knows no domain. */
const catalog = defineEvents({
  TenantCreated: {
    schema: z.object({ tenantId: z.string(), name: z.string(), slug: z.string(), createdAt: z.string() }),
    aggregate: (p) => ({ type: "tenant", id: p.tenantId }),
    priority: 1,
  },
  UserCreated: { schema: z.object({ userId: z.string(), email: z.string() }), aggregate: (p) => ({ type: "user", id: p.userId }), priority: 2 },
});
type Catalog = typeof catalog;
type HandlerMap = AnyHandlerMap<Catalog>;
const batch = <T extends "TenantCreated" | "UserCreated">(run: BatchHandler<Catalog, T>["run"]) => anyBatch(run);

const database = useTestDatabase();
const logger = createLogger({ level: "silent" });

beforeAll(async () => {
  await database.sql.execute(sql`CREATE TABLE effects (event_id uuid NOT NULL, note text)`);
});

async function pendingJobs(names: string[]): Promise<EventJob[]> {
  const jobs: EventJob[] = [];
  for (const name of names) {
    const id = randomUUID();
    const payload = { tenantId: id, name, slug: `s-${id.slice(0, 8)}`, createdAt: new Date().toISOString() };
    await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb)`);
    jobs.push({ id, attemptsMade: 0, maxAttempts: 3, data: { type: "TenantCreated", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: new Date().toISOString(), previousAttempts: 0 } });
  }
  return jobs;
}

async function effectCounts(jobs: EventJob[]): Promise<number[]> {
  const rows = await database.sql.query<{ id: string; n: number }>(sql`
    SELECT j.id::text AS id, count(e.event_id)::int AS n FROM unnest(${jobs.map((j) => j.id)}::uuid[]) AS j(id)
    LEFT JOIN effects e ON e.event_id = j.id GROUP BY j.id`);
  const counts = new Map(rows.map((row) => [row.id, row.n]));
  return jobs.map((job) => counts.get(job.id)!);
}

async function rowOf(id: string) {
  const [row] = await database.sql.query<{ status: string; attempts: number; last_error: string | null }>(sql`
    SELECT status, attempts, last_error FROM event_outbox WHERE id = ${id}::uuid`);
  return row!;
}

const run = (handlers: HandlerMap, jobs: EventJob[]) => runBatch({ db: database.sql, catalog, handlers, logger }, jobs);

/** A batch handler: one INSERT for every event of the call; refuses the whole call if one is named "bad". */
function batchRecorder(calls: number[] = []): HandlerMap {
  return {
    TenantCreated: batch(async ({ tx, events }) => {
      calls.push(events.length);
      await tx.execute(sql`INSERT INTO effects (event_id) SELECT unnest(${events.map((e) => e.id)}::uuid[])`);
      const bad = events.find((event) => event.payload.name === "bad");
      if (bad) throw new Error(`handler refused ${bad.id}`);
    }),
  };
}

describe("runBatch", () => {
  it("gives a batch handler every event in one call, and marks each processed with its effects", async () => {
    const calls: number[] = [];
    const jobs = await pendingJobs(["a", "b", "c", "d"]);
    const outcomes = await run(batchRecorder(calls), jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "handled", "handled", "handled"]);
    expect(calls).toEqual([4]);
    expect(await effectCounts(jobs)).toEqual([1, 1, 1, 1]);
    expect(await rowOf(jobs[0]!.id)).toMatchObject({ status: "processed", attempts: 1, last_error: null });
  });

  it("a batch in which one event fails: only that event fails, the others commit, its effects roll back", async () => {
    const calls: number[] = [];
    const jobs = await pendingJobs(["a", "bad", "c"]);
    const outcomes = await run(batchRecorder(calls), jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    // The whole call, then the call again under a savepoint, then each event alone.
    expect(calls).toEqual([3, 3, 1, 1, 1]);
    expect(await effectCounts(jobs)).toEqual([1, 0, 1]);
    expect(await rowOf(jobs[1]!.id)).toMatchObject({ status: "pending", attempts: 1, last_error: `handler refused ${jobs[1]!.id}` });
  });

  it("a single-event handler's failure is contained the same way", async () => {
    const handlers: HandlerMap = {
      TenantCreated: async ({ tx, event }) => {
        await tx.execute(sql`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`);
        if (event.payload.name === "bad") throw new Error("handler refused");
      },
    };
    const jobs = await pendingJobs(["a", "bad", "c"]);
    expect((await run(handlers, jobs)).map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    expect(await effectCounts(jobs)).toEqual([1, 0, 1]);
  });

  it("atCommit: one write per key, after every handler statement, with the items of the events that succeeded only", async () => {
    const writes: string[][] = [];
    const handlers: HandlerMap = {
      TenantCreated: batch(async (ctx) => {
        const { tx, events } = ctx;
        ctx.atCommit("notes", events.map((e) => e.id), async (commitTx, ids: string[]) => {
          writes.push(ids);
          // Runs in the batch's transaction, after the handler's own statements.
          const [row] = await commitTx.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM effects WHERE event_id = ANY(${ids}::uuid[])`);
          await commitTx.execute(sql`INSERT INTO effects (event_id, note) SELECT unnest(${ids}::uuid[]), ${`after ${row!.n}`}`);
        });
        await tx.execute(sql`INSERT INTO effects (event_id) SELECT unnest(${events.map((e) => e.id)}::uuid[])`);
        const bad = events.find((event) => event.payload.name === "bad");
        if (bad) throw new Error(`handler refused ${bad.id}`);
      }),
    };
    const jobs = await pendingJobs(["a", "bad", "c"]);
    expect((await run(handlers, jobs)).map((o) => o.kind)).toEqual(["handled", "retry", "handled"]);
    // The failed event's items were dropped with its savepoint; the others' went to one write.
    expect(writes).toEqual([[jobs[0]!.id, jobs[2]!.id]]);
    expect(await effectCounts(jobs)).toEqual([2, 0, 2]);
    const notes = await database.sql.query<{ note: string }>(sql`SELECT note FROM effects WHERE note IS NOT NULL AND event_id = ANY(${jobs.map((j) => j.id)}::uuid[])`);
    expect(notes.map((n) => n.note)).toEqual(["after 2", "after 2"]);
  });

  it("commits each event type of a batch in a transaction of its own, so one handler's locks never follow another's", async () => {
    const transactions = new Map<string, string>();
    const record = (type: string) => async ({ tx }: { tx: { query: typeof database.sql.query } }) => {
      const [row] = await tx.query<{ xid: string }>(sql`SELECT txid_current()::text AS xid`);
      transactions.set(type, row!.xid);
    };
    const tenants = await pendingJobs(["a", "b"]);
    const userId = randomUUID();
    const userPayload = { userId, tenantId: userId, email: "a@example.com", role: "customer", createdAt: new Date().toISOString() };
    await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${userId}::uuid, 'UserCreated', 'user', ${userId}, ${JSON.stringify(userPayload)}::jsonb)`);
    const user: EventJob = { id: userId, attemptsMade: 0, maxAttempts: 3, data: { type: "UserCreated", payload: userPayload, aggregateType: "user", aggregateId: userId, tenantId: userId, createdAt: new Date().toISOString(), previousAttempts: 0 } };
    const outcomes = await run({ TenantCreated: batch(record("TenantCreated")), UserCreated: batch(record("UserCreated")) }, [tenants[0]!, user, tenants[1]!]);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "handled", "handled"]);
    expect(transactions.size).toBe(2);
    expect(transactions.get("TenantCreated")).not.toBe(transactions.get("UserCreated"));
  });

  it("a duplicate job of an event already processed, in a batch with new ones, changes nothing of it", async () => {
    const [done] = await pendingJobs(["done"]);
    expect((await run(batchRecorder(), [done!]))[0]?.kind).toBe("handled");
    const fresh = await pendingJobs(["new"]);
    const outcomes = await run(batchRecorder(), [fresh[0]!, done!]);
    expect(outcomes.map((o) => o.kind)).toEqual(["handled", "skipped"]);
    expect(await effectCounts([done!, fresh[0]!])).toEqual([1, 1]);
    expect((await rowOf(done!.id)).attempts).toBe(1);
  });

  it("two transactions running the same events at once: each event's effects commit once", async () => {
    const slow: HandlerMap = {
      TenantCreated: batch(async ({ tx, events }) => {
        await tx.execute(sql`INSERT INTO effects (event_id) SELECT unnest(${events.map((e) => e.id)}::uuid[])`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }),
    };
    const jobs = await pendingJobs(["x", "y", "z"]);
    const [first, second] = await Promise.all([run(slow, jobs), run(slow, [...jobs].reverse())]);
    const handled = [...first, ...second].filter((o) => o.kind === "handled").length;
    expect(handled).toBe(3);
    expect(await effectCounts(jobs)).toEqual([1, 1, 1]);
  });

  it("runs the batch again after a deadlock instead of spending an attempt", async () => {
    let deadlocks = 0;
    const handlers: HandlerMap = {
      TenantCreated: async ({ tx, event }) => {
        if (event.payload.name === "victim" && deadlocks++ < 2) {
          await tx.execute(sql`DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$`);
        }
        await tx.execute(sql`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`);
      },
    };
    const jobs = await pendingJobs(["first", "victim"]);
    expect((await run(handlers, jobs)).map((o) => o.kind)).toEqual(["handled", "handled"]);
    expect(await effectCounts(jobs)).toEqual([1, 1]);
    expect((await Promise.all(jobs.map((job) => rowOf(job.id)))).map((row) => [row.status, row.attempts])).toEqual([
      ["processed", 1],
      ["processed", 1],
    ]);
  });

  it("makes an invalid payload dead at once, and a final failure dead", async () => {
    const handlers: HandlerMap = { TenantCreated: async () => { throw new Error("always"); } };
    const [invalid, last] = await pendingJobs(["x", "y"]);
    invalid!.data.payload = { tenantId: 1 };
    last!.attemptsMade = 2;
    const outcomes = await run(handlers, [invalid!, last!]);
    expect(outcomes.map((o) => o.kind)).toEqual(["dead", "dead"]);
    expect(await rowOf(invalid!.id)).toMatchObject({ status: "dead", attempts: 1 });
    expect((await rowOf(invalid!.id)).last_error).toMatch(/invalid TenantCreated payload: tenantId/);
    expect(await rowOf(last!.id)).toMatchObject({ status: "dead", last_error: "always" });
  });
});
