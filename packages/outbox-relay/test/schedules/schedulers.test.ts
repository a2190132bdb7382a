import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestDatabase, createTestRedis, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { outboxRetention, startSchedules, type RunningSchedules, type Schedule } from "../../src/schedules/index.ts";

let db: TestDatabase;
let redis: TestRedis;
let database: Database;
const connections: Redis[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  database = new Database(db.url, { poolSize: 4 });
  await database.execute(sql`CREATE TABLE heartbeat (scheduled_at timestamptz NOT NULL)`);
});
afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await database.close();
  await redis.clean();
  await db.drop();
});

const logger = createLogger({ level: "silent" });

// The heartbeat ticks every second and writes a row per tick; the others never fire here.
const schedules: Schedule[] = [
  outboxRetention({ pattern: "17 * * * *", olderThanMs: 7 * 24 * 3600_000 }),
  {
    name: "heartbeat",
    repeat: { every: 1000 },
    run: async ({ db, scheduledAt }) => {
      await db.execute(sql`INSERT INTO heartbeat (scheduled_at) VALUES (${scheduledAt})`);
    },
  },
  { name: "nightly", repeat: { pattern: "0 3 * * *", tz: "UTC" }, run: async () => ({ ran: true }) },
];
const scheduleNames = schedules.map((schedule) => schedule.name);

function start(onTick: (tick: { schedule: string; scheduledAt: Date }) => void): Promise<RunningSchedules> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connections.push(connection);
  return startSchedules({ db: database, connection, prefix: redis.prefix, schedules, logger, onTick });
}

async function heartbeatRows(): Promise<{ total: number; distinct: number }> {
  const [row] = await database.query<{ total: number; distinct: number }>(
    sql`SELECT count(*)::int AS total, count(DISTINCT scheduled_at)::int AS distinct FROM heartbeat`,
  );
  return row!;
}

describe("startSchedules", () => {
  it("registers each scheduler once across two instances, and each tick runs once in one of them", async () => {
    const ticks: { instance: number; schedule: string; at: number }[] = [];
    const first = await start((tick) => ticks.push({ instance: 1, schedule: tick.schedule, at: tick.scheduledAt.getTime() }));
    const second = await start((tick) => ticks.push({ instance: 2, schedule: tick.schedule, at: tick.scheduledAt.getTime() }));
    try {
      expect(await first.queue.getJobSchedulersCount()).toBe(scheduleNames.length);
      const schedulers = await second.queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual([...scheduleNames].sort());

      await waitFor(() => ticks.filter((t) => t.schedule === "heartbeat").length >= 4, { message: "four heartbeat ticks" });
      const times = ticks.filter((t) => t.schedule === "heartbeat").map((t) => t.at);
      expect(new Set(times).size).toBe(times.length);
    } finally {
      await first.stop();
      await second.stop();
    }
    const rows = await heartbeatRows();
    expect(rows.total).toBeGreaterThanOrEqual(4);
    expect(rows.distinct).toBe(rows.total);
  });

  it("keeps its schedulers across a restart without adding any", async () => {
    const again = await start(() => {});
    try {
      expect(await again.queue.getJobSchedulersCount()).toBe(scheduleNames.length);
      expect((await again.queue.getJobScheduler("heartbeat"))?.every).toBe(1000);
      expect((await again.queue.getJobScheduler("nightly"))?.pattern).toBe("0 3 * * *");
    } finally {
      await again.stop();
    }
  });
});
