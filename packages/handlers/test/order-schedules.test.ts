import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { startSchedules } from "outbox-relay/schedules";
import { createTestRedis, useTestDatabase, waitFor } from "@outbox/testing";
import { buildSettlement, expirePayments, orderSchedules, previousUtcDay } from "../src/index.ts";
import { seedTenant } from "./helpers.ts";
import { seedPastOrder, seedPastPayment } from "./past-orders.ts";

const database = useTestDatabase();

const minutes = (n: number) => n * 60_000;

describe("expirePayments", () => {
  it("expires only pending payments older than the limit, once, each with its PaymentExpired event", async () => {
    const now = new Date();
    const tenantId = await seedTenant(database.prisma);
    const orderId = await seedPastOrder(database.prisma, tenantId, { status: "payment_pending" });
    const ref = { tenantId, orderId };
    const due = [
      await seedPastPayment(database.prisma, ref, { createdAt: new Date(now.getTime() - minutes(31)) }),
      await seedPastPayment(database.prisma, ref, { createdAt: new Date(now.getTime() - minutes(120)) }),
    ];
    const recent = await seedPastPayment(database.prisma, ref, { createdAt: new Date(now.getTime() - minutes(29)) });
    const completed = await seedPastPayment(database.prisma, ref, { status: "completed", createdAt: new Date(now.getTime() - minutes(90)) });

    const first = await expirePayments(database.sql, now, { expireAfterMs: minutes(30), batchSize: 1 });
    expect(first.sort()).toEqual([...due].sort());
    const second = await expirePayments(database.sql, now, { expireAfterMs: minutes(30) });
    expect(second).toEqual([]);

    const payments = await database.prisma.payment.findMany({ where: { orderId }, select: { id: true, status: true, expiredAt: true } });
    const byId = new Map(payments.map((p) => [p.id, p]));
    for (const id of due) expect(byId.get(id)).toEqual({ id, status: "expired", expiredAt: now });
    expect(byId.get(recent)?.status).toBe("pending");
    expect(byId.get(completed)?.status).toBe("completed");

    const events = await database.prisma.eventOutbox.findMany({ where: { eventType: "PaymentExpired" } });
    expect(events).toHaveLength(2);
    expect(events.map((e) => (e.payload as { paymentId: string }).paymentId).sort()).toEqual([...due].sort());
    for (const event of events) {
      expect(event).toMatchObject({ status: "pending", aggregateType: "order", aggregateId: orderId, tenantId });
      expect(event.payload).toMatchObject({ orderId, tenantId, expiredAt: now.toISOString() });
    }
  });
});

describe("buildSettlement", () => {
  it("reports a seeded day per tenant from the source tables, and the same report when run again", async () => {
    const day = "2026-03-14";
    const at = (time: string) => new Date(`${day}T${time}Z`);
    const [a, b] = [await seedTenant(database.prisma), await seedTenant(database.prisma)];
    // Tenant A: two orders that day (and one rejected, one the day before, one the day after).
    const a1 = await seedPastOrder(database.prisma, a, { totalAmount: 1500, createdAt: at("00:00:00") });
    const a2 = await seedPastOrder(database.prisma, a, { totalAmount: 2500, createdAt: at("23:59:59") });
    await seedPastOrder(database.prisma, a, { totalAmount: 9999, createdAt: at("12:00:00"), status: "rejected" });
    const before = await seedPastOrder(database.prisma, a, { totalAmount: 7000, createdAt: new Date("2026-03-13T23:59:59Z") });
    await seedPastOrder(database.prisma, a, { totalAmount: 7000, createdAt: new Date("2026-03-15T00:00:00Z") });
    // Payments completed that day: 1500 for a1, 7000 for the order of the day before; a failed one and
    // one completed the next day do not count.
    await seedPastPayment(database.prisma, { tenantId: a, orderId: a1 }, { amount: 1500, status: "completed", processedAt: at("10:00:00") });
    const paidBefore = await seedPastPayment(database.prisma, { tenantId: a, orderId: before }, { amount: 7000, status: "completed", processedAt: at("01:00:00") });
    await seedPastPayment(database.prisma, { tenantId: a, orderId: a2 }, { amount: 2500, status: "failed", processedAt: at("11:00:00") });
    await seedPastPayment(database.prisma, { tenantId: a, orderId: a2 }, { amount: 2500, status: "completed", processedAt: new Date("2026-03-15T08:00:00Z") });
    await database.prisma.refund.create({ data: { tenantId: a, orderId: before, paymentId: paidBefore, amount: 7000, reason: "cancelled", createdAt: at("18:00:00") } });
    // Tenant B: one order, nothing else.
    await seedPastOrder(database.prisma, b, { totalAmount: 400, createdAt: at("09:30:00") });

    const expected = [
      { tenantId: a, day, orders: 2, grossAmount: 4000, paymentsCompleted: 2, refundsAmount: 7000, netAmount: 1500 },
      { tenantId: b, day, orders: 1, grossAmount: 400, paymentsCompleted: 0, refundsAmount: 0, netAmount: 0 },
    ].sort((x, y) => x.tenantId.localeCompare(y.tenantId));
    const readReports = async () =>
      (await database.prisma.settlementReport.findMany({ where: { day: new Date(day) }, orderBy: { tenantId: "asc" } })).map((r) => ({
        tenantId: r.tenantId,
        day: r.day.toISOString().slice(0, 10),
        orders: r.orders,
        grossAmount: Number(r.grossAmount),
        paymentsCompleted: r.paymentsCompleted,
        refundsAmount: Number(r.refundsAmount),
        netAmount: Number(r.netAmount),
      }));

    expect(await buildSettlement(database.sql, day)).toEqual(expected);
    expect(await readReports()).toEqual(expected);
    expect(await buildSettlement(database.sql, day)).toEqual(expected);
    expect(await readReports()).toEqual(expected);
    expect(await database.prisma.settlementReport.count({ where: { day: new Date("2026-03-15") } })).toBe(0);
  });

  it("sums money past 32 bits: three orders of 1,500,000,000 cents in a day, paid and one refunded", async () => {
    const day = "2026-04-02";
    const at = (time: string) => new Date(`${day}T${time}Z`);
    const tenantId = await seedTenant(database.prisma);
    const price = 1_500_000_000;
    const orders = [];
    for (const time of ["09:00:00", "10:00:00", "11:00:00"]) orders.push(await seedPastOrder(database.prisma, tenantId, { totalAmount: price, createdAt: at(time) }));
    const payments = [];
    for (const orderId of orders) payments.push(await seedPastPayment(database.prisma, { tenantId, orderId }, { amount: price, status: "completed", processedAt: at("12:00:00") }));
    await database.prisma.refund.create({ data: { tenantId, orderId: orders[0]!, paymentId: payments[0]!, amount: price, reason: "cancelled", createdAt: at("13:00:00") } });

    const [row] = await buildSettlement(database.sql, day);
    expect(row).toEqual({ tenantId, day, orders: 3, grossAmount: 4_500_000_000, paymentsCompleted: 3, refundsAmount: price, netAmount: 3_000_000_000 });
    const stored = await database.prisma.settlementReport.findUniqueOrThrow({ where: { tenantId_day: { tenantId, day: new Date(day) } } });
    expect(stored).toMatchObject({ grossAmount: 4_500_000_000n, netAmount: 3_000_000_000n });
  });

  it("removes a tenant's stale row when its figures for the day went away", async () => {
    const day = "2026-02-01";
    const tenantId = await seedTenant(database.prisma);
    const orderId = await seedPastOrder(database.prisma, tenantId, { createdAt: new Date(`${day}T05:00:00Z`) });
    expect(await buildSettlement(database.sql, day)).toHaveLength(1);
    await database.prisma.order.delete({ where: { id: orderId } });
    expect(await buildSettlement(database.sql, day)).toEqual([]);
    expect(await database.prisma.settlementReport.count({ where: { day: new Date(day) } })).toBe(0);
  });

  it("reports on the UTC day before the tick", () => {
    expect(previousUtcDay(new Date("2026-03-01T08:00:00Z"))).toBe("2026-02-28");
    expect(previousUtcDay(new Date("2026-01-01T00:00:00Z"))).toBe("2025-12-31");
  });
});

describe("orderSchedules", () => {
  it("on the engine's scheduler, the expiry tick expires a due payment and publishes its event once", async () => {
    const redis = createTestRedis();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const schedules = orderSchedules({
      paymentExpiry: { every: 1000 },
      paymentExpiryAfterMs: minutes(1),
      settlement: { pattern: "5 0 * * *", tz: "UTC" },
    });
    const running = await startSchedules({ db: database.sql, connection, prefix: redis.prefix, schedules, logger: createLogger({ level: "silent" }) });
    try {
      const tenantId = await seedTenant(database.prisma);
      const orderId = await seedPastOrder(database.prisma, tenantId, { status: "payment_pending" });
      const paymentId = await seedPastPayment(database.prisma, { tenantId, orderId }, { createdAt: new Date(Date.now() - minutes(2)) });
      await waitFor(async () => (await database.prisma.payment.findUnique({ where: { id: paymentId } }))?.status === "expired", {
        message: "the expiry tick to expire the payment",
      });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a later tick finds nothing more to expire
      expect(await database.prisma.eventOutbox.count({ where: { eventType: "PaymentExpired", aggregateId: orderId } })).toBe(1);
    } finally {
      await running.stop();
      connection.disconnect();
      await redis.clean();
    }
  });
});
