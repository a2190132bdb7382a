import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@outbox/config";
import { domainHandlers } from "@outbox/handlers";
import { createLogger } from "outbox-relay/logger";
import { sql } from "outbox-relay/sql";
import { createTestRedis, waitFor } from "@outbox/testing";
import { startWorker } from "@outbox/worker";
import { address, countRows, orderBody, post, seedShop, startApi, type ApiHarness, type Auth } from "./helpers.ts";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function api(options: Parameters<typeof startApi>[0] = {}): Promise<ApiHarness> {
  const harness = await startApi(options);
  cleanups.push(() => harness.close());
  return harness;
}

async function withWorker(harness: ApiHarness) {
  const redis = createTestRedis();
  const config = loadConfig({ DATABASE_URL: harness.db.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: "silent", WORKER_PORT: "0" });
  const worker = await startWorker({ config, handlers: domainHandlers, logger: createLogger({ level: "silent" }) });
  cleanups.push(async () => {
    await worker.stop();
    await redis.clean();
  });
}

async function postHttp(base: string, path: string, body: unknown, auth: Auth) {
  const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(body) });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as Record<string, unknown> };
}

describe("the order API under load", () => {
  it("8 concurrent clients × 600 orders on 20 products, some cancelled: no 5xx, each order accepted or rejected with a reason, stock conserved", async () => {
    const harness = await api({ env: { API_MAX_IN_FLIGHT: "1000" } });
    await withWorker(harness);
    const shop = await seedShop(harness.app, { stock: 200, price: 100 });
    const seller = (await harness.sql.query<{ id: string }>(sql`SELECT seller_id::text AS id FROM products WHERE id = ${shop.productId}::uuid`))[0]!.id;
    const products = [shop.productId];
    for (let i = 1; i < 20; i++) {
      const product = await post(harness.app, "/api/products", { tenantId: shop.tenantId, sellerId: seller, categoryId: "c", name: `P${i}`, price: 100, stock: 200 }, shop.auth);
      products.push(product.body.id);
    }
    const base = await harness.app.listen({ host: "127.0.0.1", port: 0 });
    const statuses: number[] = [];
    const cancelled = new Set<string>();
    const client = async (c: number) => {
      for (let n = 0; n < 600; n++) {
        // Two or three products each, listed in no particular order: the old deadlock's shape.
        const picked = [...new Set([products[(c * 7 + n) % 20]!, products[(n * 3 + c) % 20]!, products[(n * 11) % 20]!])];
        const items = picked.map((productId, k) => ({ productId, quantity: 1 + ((n + k) % 3), unitPrice: 100 }));
        const order = await postHttp(base, "/api/orders", { ...orderBody(shop.tenantId, shop.productId), items, shippingAddress: address }, shop.auth);
        statuses.push(order.status);
        if (order.status === 201 && n % 10 === 0) {
          const cancel = await postHttp(base, `/api/orders/${order.body.id as string}/cancel`, { reason: "load test" }, shop.auth);
          statuses.push(cancel.status);
          if (cancel.status === 202) cancelled.add(order.body.id as string);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((status) => status === 201).length).toBe(4800);

    await waitFor(async () => {
      const [open] = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM event_outbox WHERE status <> 'processed'`);
      return open!.n === 0;
    }, { timeoutMs: 120_000, message: "every event processed" });
    const orders = await harness.sql.query<{ id: string; status: string; status_reason: string | null }>(sql`
      SELECT id::text, status, status_reason FROM orders WHERE tenant_id = ${shop.tenantId}::uuid`);
    expect(orders.length).toBe(4800);
    expect(orders.filter((o) => o.status === "rejected" && !o.status_reason?.startsWith("insufficient stock"))).toEqual([]);
    expect(orders.filter((o) => !["awaiting_payment", "rejected", "cancelled"].includes(o.status))).toEqual([]);
    expect(orders.filter((o) => cancelled.has(o.id) && o.status !== "cancelled")).toEqual([]);
    const [stock] = await harness.sql.query<{ ok: boolean; negative: number }>(sql`
      WITH taken AS (
        SELECT i.product_id, sum(i.quantity)::int AS units FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE o.status = 'awaiting_payment' GROUP BY i.product_id)
      SELECT bool_and(p.stock = 200 - coalesce(t.units, 0)) AS ok, count(*) FILTER (WHERE p.stock < 0)::int AS negative
      FROM products p LEFT JOIN taken t ON t.product_id = p.id WHERE p.tenant_id = ${shop.tenantId}::uuid`);
    expect(stock).toEqual({ ok: true, negative: 0 });
  });

  it("past its capacity, refuses at once with 503 and Retry-After, and a refused order writes nothing", async () => {
    const harness = await api({ env: { API_MAX_IN_FLIGHT: "3", API_MAX_IN_FLIGHT_PER_TENANT: "3" } });
    const shop = await seedShop(harness.app, { stock: 1000 });
    const base = await harness.app.listen({ host: "127.0.0.1", port: 0 });
    const before = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM orders`);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 60 }, () => postHttp(base, "/api/orders", orderBody(shop.tenantId, shop.productId, 1), shop.auth)));
    const refused = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status !== 201 && a.status !== 503)).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.retryAfter === "1" && a.body.code === "OVERLOADED")).toBe(true);
    expect(performance.now() - started).toBeLessThan(15_000);
    const [after] = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM orders`);
    expect(after!.n - before[0]!.n).toBe(answers.filter((a) => a.status === 201).length);
    // Health and readiness are never refused.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("a request that cannot get a database connection in time answers 503 with Retry-After, not 500", async () => {
    const harness = await api({ pool: { poolSize: 1, connectionTimeoutMs: 300 } });
    const shop = await seedShop(harness.app);
    const held = await harness.sql.connect();
    try {
      const answer = await post(harness.app, "/api/orders", orderBody(shop.tenantId, shop.productId), shop.auth);
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("1");
      expect(answer.body.code).toBe("UNAVAILABLE");
    } finally {
      held.release();
    }
    expect((await post(harness.app, "/api/orders", orderBody(shop.tenantId, shop.productId), shop.auth)).status).toBe(201);
  });

  it("a deadlock in the write is run again inside: the client sees 202, never the deadlock", async () => {
    const harness = await api();
    const shop = await seedShop(harness.app);
    const order = await post(harness.app, "/api/orders", orderBody(shop.tenantId, shop.productId), shop.auth);
    // The first two cancel UPDATEs fail as a deadlock would (a sequence counts them: it survives the rollback).
    await harness.prisma.$executeRawUnsafe(`CREATE SEQUENCE deadlock_count`);
    await harness.prisma.$executeRawUnsafe(`
      CREATE FUNCTION fake_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'cancelled' AND nextval('deadlock_count') <= 2 THEN
          RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';
        END IF;
        RETURN NEW;
      END $$`);
    await harness.prisma.$executeRawUnsafe(`CREATE TRIGGER fake_deadlock BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION fake_deadlock()`);
    const cancel = await post(harness.app, `/api/orders/${order.body.id}/cancel`, { reason: "retried" }, shop.auth);
    expect(cancel.status).toBe(202);
    const events = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM event_outbox WHERE event_type = 'OrderCancelled' AND aggregate_id = ${order.body.id}`);
    expect(events[0]!.n).toBe(1);
    const [tries] = await harness.sql.query<{ n: string }>(sql`SELECT last_value::text AS n FROM deadlock_count`);
    expect(tries!.n).toBe("3");
  });

  it("an order's customer and a product's seller must be users of the tenant: 404 naming the field, nothing written", async () => {
    const harness = await api();
    const shop = await seedShop(harness.app);
    const before = await countRows(harness.prisma);
    const order = await post(harness.app, "/api/orders", { ...orderBody(shop.tenantId, shop.productId), customerId: randomUUID() }, shop.auth);
    expect(order.status).toBe(404);
    expect(order.body).toMatchObject({ code: "CUSTOMER_NOT_FOUND", issues: [{ path: "customerId" }] });
    const product = await post(harness.app, "/api/products", { tenantId: shop.tenantId, sellerId: randomUUID(), categoryId: "c", name: "x", price: 1, stock: 1 }, shop.auth);
    expect(product.status).toBe(404);
    expect(product.body).toMatchObject({ code: "SELLER_NOT_FOUND", issues: [{ path: "sellerId" }] });
    expect(await countRows(harness.prisma)).toEqual(before);
  });
});
