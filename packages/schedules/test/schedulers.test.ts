import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createLogger } from "@outbox/logger";
import { Database } from "@outbox/sql";
import { createTestDatabase, createTestRedis, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { orderSchedules } from "@outbox/handlers";
import { outboxRetention, startSchedules, type RunningSchedules } from "../src/index.ts";
import { seedOrder, seedPayment, seedTenant } from "./seed.ts";

let db: TestDatabase;
let redis: TestRedis;
let prisma: PrismaClient;
let sql: Database;
const connections: Redis[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  prisma = createPrisma(db.url);
  sql = new Database(db.url, { poolSize: 4 });
});
afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await prisma.$disconnect();
  await sql.close();
  await redis.clean();
  await db.drop();
});

const config = loadConfig({ PAYMENT_EXPIRY_AFTER_MS: "60000" });
const logger = createLogger({ level: "silent" });

// Expiry ticks every second; the others keep their daily/hourly patterns and never fire here.
const schedules = [
  outboxRetention({ pattern: config.RETENTION_CRON, olderThanMs: config.OUTBOX_RETENTION_DAYS * 24 * 3600_000 }),
  ...orderSchedules({
    paymentExpiry: { every: 1000 },
    paymentExpiryAfterMs: config.PAYMENT_EXPIRY_AFTER_MS,
    settlement: { pattern: config.SETTLEMENT_CRON, tz: "UTC" },
  }),
];
const scheduleNames = schedules.map((schedule) => schedule.name);

function start(onTick: (tick: { schedule: string; scheduledAt: Date }) => void): Promise<RunningSchedules> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connections.push(connection);
  return startSchedules({
    db: sql,
    connection,
    prefix: redis.prefix,
    schedules,
    logger,
    onTick,
  });
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

      const tenantId = await seedTenant(prisma);
      const orderId = await seedOrder(prisma, tenantId, { status: "payment_pending" });
      const paymentId = await seedPayment(prisma, { tenantId, orderId }, { createdAt: new Date(Date.now() - 120_000) });

      // A tick expires the due payment and publishes its event.
      await waitFor(async () => (await prisma.payment.findUnique({ where: { id: paymentId } }))?.status === "expired", {
        message: "the expiry tick to expire the payment",
      });
      expect(await prisma.eventOutbox.count({ where: { eventType: "PaymentExpired", aggregateId: orderId } })).toBe(1);

      // Let a few more ticks pass: each scheduled time runs exactly once across both instances.
      await waitFor(() => ticks.filter((t) => t.schedule === "payment-expiry").length >= 4, { message: "four expiry ticks" });
      const times = ticks.filter((t) => t.schedule === "payment-expiry").map((t) => t.at);
      expect(new Set(times).size).toBe(times.length);
      expect(await prisma.eventOutbox.count({ where: { eventType: "PaymentExpired" } })).toBe(1);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it("keeps its schedulers across a restart without adding any", async () => {
    const again = await start(() => {});
    try {
      expect(await again.queue.getJobSchedulersCount()).toBe(scheduleNames.length);
      const expiry = await again.queue.getJobScheduler("payment-expiry");
      expect(expiry?.every).toBe(1000);
      const settlement = await again.queue.getJobScheduler("settlement");
      expect(settlement?.pattern).toBe(config.SETTLEMENT_CRON);
    } finally {
      await again.stop();
    }
  });
});
