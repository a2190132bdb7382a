import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql, type Connection } from "../../src/sql/index.ts";
import { useTestDatabase, waitFor } from "@outbox/testing";
import { markProcessed, pruneFinished, recordFailures, retryDeadRows, revertMarks, skipDeadRows, skipUnfinished } from "../../src/outbox/index.ts";

const database = useTestDatabase();

interface Seed {
  status: string;
  type?: string;
  aggregateId?: string;
  attempts?: number;
  /** processed_at this long ago, for finished rows. */
  finishedAgoMs?: number;
}

/** Outbox rows in the given states, by plain SQL; returns their ids in order. */
async function seed(...rows: Seed[]): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const id = randomUUID();
    const finished = row.finishedAgoMs === undefined ? null : new Date(Date.now() - row.finishedAgoMs);
    await database.sql.execute(sql`
      INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error, processed_at)
      VALUES (${id}::uuid, ${row.type ?? "TenantCreated"}, 'tenant', ${row.aggregateId ?? id}, '{}'::jsonb, ${row.status},
        ${row.attempts ?? 0}, ${row.status === "dead" ? "boom" : null}, ${finished})`);
    ids.push(id);
  }
  return ids;
}

async function rowOf(id: string) {
  const [row] = await database.sql.query<{ status: string; attempts: number; last_error: string | null; finished: boolean }>(sql`
    SELECT status, attempts, last_error, processed_at IS NOT NULL AS finished FROM event_outbox WHERE id = ${id}::uuid`);
  return row;
}

const statusOf = async (id: string) => (await rowOf(id))?.status;

/** A transaction left open on its own connection, to hold row locks while another statement runs. */
async function openTransaction(): Promise<Connection> {
  const tx = await database.sql.connect();
  await tx.run("BEGIN");
  return tx;
}

async function commit(tx: Connection): Promise<void> {
  await tx.run("COMMIT");
  tx.release();
}

/** Waits until some statement of this database is blocked on a row lock. */
async function blockedOnLock(): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await database.sql.query<{ n: number }>(sql`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      return row!.n > 0;
    },
    { message: "a statement to wait for a row lock" },
  );
}

describe("markProcessed", () => {
  it("marks pending and dead rows processed with the status each had; processed, skipped and missing ids are lost", async () => {
    const [pending, dead, processed, skipped] = await seed({ status: "pending" }, { status: "dead", attempts: 3 }, { status: "processed" }, { status: "skipped" });
    const missing = randomUUID();
    const result = await database.sql.transaction((tx) => markProcessed(tx, [pending!, dead!, processed!, skipped!, missing]));
    expect(result.changed).toEqual(
      expect.arrayContaining([
        { id: pending, previous_status: "pending" },
        { id: dead, previous_status: "dead" },
      ]),
    );
    expect(result.changed).toHaveLength(2);
    expect(result.lost).toEqual([processed, skipped, missing]);
    expect(await rowOf(pending!)).toEqual({ status: "processed", attempts: 1, last_error: null, finished: true });
    expect(await rowOf(dead!)).toEqual({ status: "processed", attempts: 4, last_error: null, finished: true });
    expect(await statusOf(skipped!)).toBe("skipped");
  });

  it("a second run marking the same event waits for the first one's claim and, once it commits, loses the row", async () => {
    const [id] = await seed({ status: "pending" });
    const first = await openTransaction();
    expect((await markProcessed(first, [id!])).changed).toHaveLength(1);
    const second = database.sql.transaction((tx) => markProcessed(tx, [id!]));
    await blockedOnLock();
    await commit(first);
    expect(await second).toEqual({ changed: [], lost: [id] });
    expect(await rowOf(id!)).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("reports the status a row has once it holds it: an admin's retry committed while the mark waited makes it pending, not dead", async () => {
    const [id] = await seed({ status: "dead", attempts: 3 });
    const admin = await openTransaction();
    expect((await retryDeadRows(admin, [id!])).changed).toHaveLength(1);
    const run = database.sql.transaction((tx) => markProcessed(tx, [id!]));
    await blockedOnLock();
    await commit(admin);
    expect((await run).changed).toEqual([{ id, previous_status: "pending" }]);
    expect(await rowOf(id!)).toMatchObject({ status: "processed", attempts: 1 });
  });
});

describe("revertMarks", () => {
  it("puts back the rows this transaction marked: to the status each had, or to dead, with the error", async () => {
    const [pending, dead, final] = await seed({ status: "pending" }, { status: "dead", attempts: 3 }, { status: "pending" });
    const result = await database.sql.transaction(async (tx) => {
      await markProcessed(tx, [pending!, dead!, final!]);
      return revertMarks(tx, [
        { id: pending!, error: "try again", dead: false, previousStatus: "pending" },
        { id: dead!, error: "still broken", dead: false, previousStatus: "dead" },
        { id: final!, error: "gave up", dead: true, previousStatus: "pending" },
      ]);
    });
    expect(result.changed.sort()).toEqual([pending, dead, final].sort());
    expect(result.lost).toEqual([]);
    expect(await rowOf(pending!)).toEqual({ status: "pending", attempts: 1, last_error: "try again", finished: false });
    expect(await rowOf(dead!)).toEqual({ status: "dead", attempts: 4, last_error: "still broken", finished: false });
    expect(await rowOf(final!)).toEqual({ status: "dead", attempts: 1, last_error: "gave up", finished: false });
  });

  it("loses a processed row this transaction did not mark, and leaves it processed", async () => {
    const [mine, theirs] = await seed({ status: "pending" }, { status: "pending" });
    await database.sql.transaction((tx) => markProcessed(tx, [theirs!]));
    const result = await database.sql.transaction(async (tx) => {
      await markProcessed(tx, [mine!]);
      return revertMarks(tx, [
        { id: mine!, error: "failed", dead: false, previousStatus: "pending" },
        { id: theirs!, error: "failed", dead: false, previousStatus: "pending" },
      ]);
    });
    expect(result).toEqual({ changed: [mine], lost: [theirs] });
    expect(await rowOf(theirs!)).toMatchObject({ status: "processed", last_error: null });
  });
});

describe("recordFailures", () => {
  it("counts a failed attempt on a pending row, makes a final failure dead, and keeps a dead row dead", async () => {
    const [retry, final, dead] = await seed({ status: "pending" }, { status: "pending" }, { status: "dead", attempts: 3 });
    const result = await recordFailures(database.sql, [
      { id: retry!, error: "timeout", dead: false },
      { id: final!, error: "gone", dead: true },
      { id: dead!, error: "again", dead: false },
    ]);
    expect(result.changed.sort()).toEqual([retry, final, dead].sort());
    expect(result.lost).toEqual([]);
    expect(await rowOf(retry!)).toMatchObject({ status: "pending", attempts: 1, last_error: "timeout" });
    expect(await rowOf(final!)).toMatchObject({ status: "dead", attempts: 1, last_error: "gone" });
    expect(await rowOf(dead!)).toMatchObject({ status: "dead", attempts: 4, last_error: "again" });
  });

  it("loses a row another run finished or an admin skipped, and changes nothing of it", async () => {
    const [processed, skipped] = await seed({ status: "processed", attempts: 1 }, { status: "skipped" });
    const missing = randomUUID();
    const result = await recordFailures(database.sql, [
      { id: processed!, error: "late failure", dead: true },
      { id: skipped!, error: "late failure", dead: false },
      { id: missing, error: "late failure", dead: false },
    ]);
    expect(result).toEqual({ changed: [], lost: [processed, skipped, missing] });
    expect(await rowOf(processed!)).toMatchObject({ status: "processed", attempts: 1, last_error: null });
    expect(await rowOf(skipped!)).toMatchObject({ status: "skipped", attempts: 0 });
  });
});

describe("retryDeadRows and skipDeadRows", () => {
  it("retry: a dead row becomes pending with its attempts reset; a row no longer dead is lost", async () => {
    const [dead, pending] = await seed({ status: "dead", attempts: 3 }, { status: "pending", attempts: 1 });
    const result = await retryDeadRows(database.sql, [dead!, pending!]);
    expect(result.changed).toEqual([expect.objectContaining({ id: dead, status: "pending", attempts: 0, event_type: "TenantCreated" })]);
    expect(result.lost).toEqual([pending]);
    expect(await rowOf(dead!)).toMatchObject({ status: "pending", attempts: 0, last_error: "boom" });
    expect(await rowOf(pending!)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await retryDeadRows(database.sql, [dead!])).lost).toEqual([dead]);
  });

  it("an id asked in capitals is reported changed, not lost", async () => {
    const [dead] = await seed({ status: "dead" });
    const result = await retryDeadRows(database.sql, [dead!.toUpperCase()]);
    expect(result.changed.map((row) => row.id)).toEqual([dead]);
    expect(result.lost).toEqual([]);
  });

  it("skip: a dead row becomes skipped, finished now; a row no longer dead is lost", async () => {
    const [dead, processed] = await seed({ status: "dead", attempts: 3 }, { status: "processed" });
    const result = await skipDeadRows(database.sql, [dead!, processed!]);
    expect(result.changed).toEqual([expect.objectContaining({ id: dead, status: "skipped", attempts: 3 })]);
    expect(result.lost).toEqual([processed]);
    expect(await rowOf(dead!)).toEqual({ status: "skipped", attempts: 3, last_error: "boom", finished: true });
    expect(await statusOf(processed!)).toBe("processed");
    expect((await skipDeadRows(database.sql, [dead!])).lost).toEqual([dead]);
  });
});

describe("skipUnfinished", () => {
  const filter = (aggregateId: string) => ({ aggregateType: "tenant", aggregateId, eventType: "WebhookDelivery", reason: "endpoint deleted" });

  it("skips the pending and dead events of one type and aggregate, in the caller's Prisma transaction, and nothing else", async () => {
    const aggregateId = randomUUID();
    const [pending, dead, processed, otherType, otherAggregate] = await seed(
      { status: "pending", type: "WebhookDelivery", aggregateId },
      { status: "dead", type: "WebhookDelivery", aggregateId },
      { status: "processed", type: "WebhookDelivery", aggregateId },
      { status: "pending", type: "TenantCreated", aggregateId },
      { status: "pending", type: "WebhookDelivery" },
    );
    const result = await database.prisma.$transaction((tx) => skipUnfinished(tx, filter(aggregateId)));
    expect(result.changed.sort()).toEqual([pending, dead].sort());
    expect(result.lost).toEqual([]);
    for (const id of [pending, dead]) expect(await rowOf(id!)).toMatchObject({ status: "skipped", last_error: "endpoint deleted", finished: true });
    expect(await statusOf(processed!)).toBe("processed");
    expect(await statusOf(otherType!)).toBe("pending");
    expect(await statusOf(otherAggregate!)).toBe("pending");
  });

  it("loses an event a run marks processed while the skip waits for its lock, and leaves it processed", async () => {
    const aggregateId = randomUUID();
    const [sending, waiting] = await seed({ status: "pending", type: "WebhookDelivery", aggregateId }, { status: "pending", type: "WebhookDelivery", aggregateId });
    const run = await openTransaction();
    await markProcessed(run, [sending!]);
    const skip = skipUnfinished(database.sql, filter(aggregateId));
    await blockedOnLock();
    await commit(run);
    expect(await skip).toEqual({ changed: [waiting], lost: [sending] });
    expect(await statusOf(sending!)).toBe("processed");
    expect(await statusOf(waiting!)).toBe("skipped");
  });
});

describe("pruneFinished", () => {
  const hour = 3_600_000;

  it("deletes processed and skipped rows finished before the cutoff, at most the limit; never pending or dead ones", async () => {
    await database.sql.execute(sql`DELETE FROM event_outbox`);
    const [processed, skipped, recent, pending, dead] = await seed(
      { status: "processed", finishedAgoMs: 3 * hour },
      { status: "skipped", finishedAgoMs: 2 * hour },
      { status: "processed", finishedAgoMs: 0 },
      { status: "pending" },
      { status: "dead" },
    );
    const cutoff = new Date(Date.now() - hour);
    expect(await pruneFinished(database.sql, cutoff, 1)).toBe(1);
    expect(await statusOf(processed!)).toBeUndefined();
    expect(await pruneFinished(database.sql, cutoff, 10)).toBe(1);
    expect(await statusOf(skipped!)).toBeUndefined();
    expect(await pruneFinished(database.sql, cutoff, 10)).toBe(0);
    for (const id of [recent, pending, dead]) expect(await statusOf(id!)).toBeDefined();
  });

  it("leaves a row another session holds for a later call, without waiting for it", async () => {
    const [held, free] = await seed({ status: "processed", finishedAgoMs: 5 * hour }, { status: "skipped", finishedAgoMs: 5 * hour });
    const cutoff = new Date(Date.now() - hour);
    const other = await openTransaction();
    await other.query(sql`SELECT id FROM event_outbox WHERE id = ${held!}::uuid FOR UPDATE`);
    try {
      expect(await pruneFinished(database.sql, cutoff, 10)).toBe(1);
      expect(await statusOf(free!)).toBeUndefined();
      expect(await statusOf(held!)).toBe("processed");
    } finally {
      await commit(other);
    }
    expect(await pruneFinished(database.sql, cutoff, 10)).toBe(1);
    expect(await statusOf(held!)).toBeUndefined();
  });
});
