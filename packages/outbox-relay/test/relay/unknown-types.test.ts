import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { sql } from "../../src/sql/index.ts";
import { createTestRedis, previousTestEvents, testEvents, useTestDatabase } from "@outbox/testing";
import { recoverLostJobs, relayOnce } from "../../src/relay/index.ts";

const database = useTestDatabase();
const redis = createTestRedis();
const logger = createLogger({ level: "silent" });

/** Queues as a worker of the previous release (no AccountClosed) and of the current one see them; one Redis prefix. */
let previous: QueueSet;
let current: QueueSet;

beforeAll(() => {
  previous = createQueues(createRedis({ url: redis.url }, "worker"), redis.prefix, previousTestEvents);
  current = createQueues(createRedis({ url: redis.url }, "worker"), redis.prefix, testEvents);
});
afterAll(async () => {
  for (const queues of [previous, current]) {
    await queues.close();
    queues.connection.disconnect();
  }
  await redis.clean();
});
beforeEach(async () => {
  await current.events.obliterate({ force: true });
  await database.sql.execute(sql`DELETE FROM event_outbox`);
});

/** Inserts rows by plain SQL, in this order (one transaction each); returns their ids. */
async function insert(rows: { type: "AccountOpened" | "AccountClosed"; accountId: string }[]): Promise<string[]> {
  const ids: string[] = [];
  for (const { type, accountId } of rows) {
    const id = randomUUID();
    const payload = type === "AccountOpened" ? { accountId, name: "A", slug: "a", openedAt: new Date().toISOString() } : { accountId, reason: "r", closedAt: new Date().toISOString() };
    await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${id}::uuid, ${type}, 'account', ${accountId}, ${JSON.stringify(payload)}::jsonb)`);
    ids.push(id);
  }
  return ids;
}

const queued = (ids: string[]) => Promise.all(ids.map(async (id) => (await current.events.getJob(id)) !== undefined));
const relayAll = async (queues: QueueSet) => {
  while ((await relayOnce({ db: database.sql, queues, batchSize: 100 })).read === 100);
};
const rows = (ids: string[]) =>
  database.sql.query<{ status: string; attempts: number }>(sql`SELECT status, attempts FROM event_outbox WHERE id = ANY(${ids}::uuid[]) ORDER BY sequence`);

describe("rows of a type the relaying worker does not know", () => {
  it("get no job and stay pending, untouched, holding their aggregate; the cursor moves past them", async () => {
    const accountId = randomUUID();
    const [unknown, later, other] = await insert([
      { type: "AccountClosed", accountId },
      { type: "AccountOpened", accountId },
      { type: "AccountOpened", accountId: randomUUID() },
    ]);
    const step = await relayOnce({ db: database.sql, queues: previous, batchSize: 100 });
    expect(step).toMatchObject({ read: 3, queued: 1 });
    expect(await queued([unknown!, later!, other!])).toEqual([false, false, true]);
    expect(await rows([unknown!, later!])).toEqual([
      { status: "pending", attempts: 0 },
      { status: "pending", attempts: 0 },
    ]);
    expect((await relayOnce({ db: database.sql, queues: previous, batchSize: 100 })).read).toBe(0);
  });

  it("the old worker's rescue pass leaves them alone and still finds a lost job behind a pile of them", async () => {
    await database.sql.execute(sql`INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload)
      SELECT 'AccountClosed', 'account', 'a-' || n, '{}'::jsonb FROM generate_series(1, 1200) n`);
    const [lost] = await insert([{ type: "AccountOpened", accountId: randomUUID() }]);
    await relayAll(previous);
    await current.events.obliterate({ force: true }); // Redis lost the one job
    expect(await recoverLostJobs({ db: database.sql, queues: previous, logger })).toBe(1);
    expect(await queued([lost!])).toEqual([true]);
  });

  it("a worker that knows the type queues them with its policy, in aggregate order: the later event waits for the first to finish", async () => {
    const accountId = randomUUID();
    const [unknown, later] = await insert([
      { type: "AccountClosed", accountId },
      { type: "AccountOpened", accountId },
    ]);
    await relayAll(previous);
    expect(await recoverLostJobs({ db: database.sql, queues: previous, logger })).toBe(0);

    expect(await recoverLostJobs({ db: database.sql, queues: current, logger })).toBe(1);
    expect(await queued([unknown!, later!])).toEqual([true, false]);
    expect((await current.events.getJob(unknown!))?.opts.priority).toBe(testEvents.policyOf("AccountClosed").priority);

    await database.sql.execute(sql`UPDATE event_outbox SET status = 'processed' WHERE id = ${unknown}::uuid`);
    expect(await recoverLostJobs({ db: database.sql, queues: current, logger })).toBe(1);
    expect(await queued([later!])).toEqual([true]);
  });
});
