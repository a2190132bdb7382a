import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, admin, orderBody, post, seedShop, startApi, tableDigests, type ApiHarness, type Auth } from "./helpers.ts";

let api: ApiHarness;
let shop: Awaited<ReturnType<typeof seedShop>>;
let orderId: string;
let endpointId: string;

beforeAll(async () => {
  api = await startApi({ queues: true, env: { ENCRYPTION_KEY: "input-test-encryption-key-of-32-chars-plus" } });
  shop = await seedShop(api.app, { stock: 100 });
  const order = await post(api.app, "/api/orders", orderBody(shop.tenantId, shop.productId, 1), shop.auth);
  orderId = order.body.id;
  await api.prisma.order.update({ where: { id: orderId }, data: { status: "awaiting_payment" } });
  endpointId = (await post(api.app, `/api/tenants/${shop.tenantId}/webhook-endpoints`, { url: "https://hooks.example.com/in", events: ["*"] }, shop.auth)).body.id;
});
afterAll(async () => {
  await api.close();
});

/** Every route that takes strings, with a body it accepts. */
const bodies: { url: () => string; body: () => Record<string, unknown>; auth?: () => Auth }[] = [
  { url: () => "/api/tenants", body: () => ({ name: "Acme", slug: "acme-input" }), auth: () => admin },
  { url: () => "/api/users", body: () => ({ tenantId: shop.tenantId, email: "new@example.com", role: "customer" }) },
  { url: () => "/api/products", body: () => ({ tenantId: shop.tenantId, sellerId: shop.sellerId, categoryId: "books", name: "A book", price: 1250, stock: 1 }) },
  { url: () => "/api/orders", body: () => ({ ...orderBody(shop.tenantId, shop.productId, 1), billingAddress: { ...address, address2: "Flat 2" } }) },
  { url: () => `/api/orders/${orderId}/cancel`, body: () => ({ reason: "changed my mind" }) },
  { url: () => "/api/payments", body: () => ({ orderId, amount: 1250 }) },
  { url: () => `/api/tenants/${shop.tenantId}/webhook-endpoints`, body: () => ({ url: "https://hooks.example.com/x", events: ["order.created"] }) },
  { url: () => `/api/tenants/${shop.tenantId}/webhook-endpoints/${endpointId}/disable`, body: () => ({ reason: "maintenance" }) },
  { url: () => `/api/tenants/${shop.tenantId}/api-keys`, body: () => ({ name: "ci" }) },
  { url: () => "/admin/api/replay", body: () => ({ type: "TenantCreated", since: new Date().toISOString() }), auth: () => admin },
];

function stringPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value === "string") return [path];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
}

function withValueAt(value: Record<string, unknown>, path: string[], replacement: string): Record<string, unknown> {
  const copy = structuredClone(value);
  let current: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) current = current[key] as Record<string, unknown>;
  current[path.at(-1)!] = replacement;
  return copy;
}

describe("strings Postgres cannot store", () => {
  it("every string field of every route refuses NUL and lone surrogates with 400 naming it, and writes nothing", async () => {
    const before = await tableDigests(api.prisma);
    let checked = 0;
    for (const route of bodies) {
      const body = route.body();
      for (const path of stringPaths(body)) {
        for (const bad of ["a\u0000b", "a\ud800b", "\udfff"]) {
          const answer = await post(api.app, route.url(), withValueAt(body, path, bad), { ...(route.auth?.() ?? shop.auth) });
          const where = `${route.url()} ${path.join(".")} = ${JSON.stringify(bad)}`;
          expect(answer.status, where).toBe(400);
          expect(answer.body.code, where).toBe("VALIDATION_FAILED");
          expect(answer.body.issues, where).toContainEqual({ path: path.join("."), message: expect.stringMatching(/NUL .*surrogates/) as unknown });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
    expect(await tableDigests(api.prisma)).toEqual(before);
  });

  it("refuses them in keys, path parameters and the query too", async () => {
    const keyed = await post(api.app, "/api/orders", { ...orderBody(shop.tenantId, shop.productId, 1), ["x\u0000"]: 1 }, shop.auth);
    expect(keyed.status).toBe(400);
    const param = await api.app.inject({ method: "GET", url: "/api/orders/a%00b", headers: shop.auth });
    expect(param.statusCode).toBe(400);
    expect(param.json()).toMatchObject({ issues: [{ path: "id" }] });
    const query = await api.app.inject({ method: "GET", url: "/admin/api/dlq?type=a%00b", headers: admin });
    expect(query.statusCode).toBe(400);
  });

  it("keeps paired surrogates and other Unicode as sent", async () => {
    const cancel = await post(api.app, `/api/orders/${orderId}/cancel`, { reason: "too late 😀 — ünïcode" }, shop.auth);
    expect(cancel.status).toBe(202);
    expect((await api.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).statusReason).toBe("too late 😀 — ünïcode");
  });
});

describe("deep and unknown input", () => {
  /** A body with `field` nested `levels` deep, as JSON text (JSON.stringify itself would overflow the stack). */
  const nested = (field: string, levels: number) => {
    const good = JSON.stringify(orderBody(shop.tenantId, shop.productId, 1));
    const value = levels > 5_000 ? `${"[".repeat(levels)}${"]".repeat(levels)}` : `${'{"next":'.repeat(levels)}"leaf"${"}".repeat(levels)}`;
    return `${good.slice(0, -1)},"${field}":${value}}`;
  };

  it("a body nested thousands of levels deep answers 400, with or without an Idempotency-Key, and writes nothing", async () => {
    const before = await tableDigests(api.prisma);
    for (const headers of [shop.auth, { ...shop.auth, "idempotency-key": randomUUID() }]) {
      for (const levels of [40, 5_000, 30_000]) {
        for (const field of ["extra", "shippingAddress"]) {
          const response = await api.app.inject({ method: "POST", url: "/api/orders", payload: nested(field, levels), headers: { ...headers, "content-type": "application/json" } });
          expect(response.statusCode, `${field} ${levels}`).toBe(400);
          expect(response.json(), `${field} ${levels}`).toMatchObject({ code: "BODY_TOO_DEEP" });
        }
      }
    }
    expect(await tableDigests(api.prisma)).toEqual(before);
  });

  it("ignores unknown keys: not stored, not part of an Idempotency-Key's request", async () => {
    const key = randomUUID();
    const body = orderBody(shop.tenantId, shop.productId, 1);
    const first = await post(api.app, "/api/orders", body, { ...shop.auth, "idempotency-key": key });
    expect(first.status).toBe(201);
    const withExtra = { ...body, note: "ignored", shippingAddress: { ...body.shippingAddress, floor: 3 } };
    const again = await post(api.app, "/api/orders", withExtra, { ...shop.auth, "idempotency-key": key });
    expect(again.status).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
    const event = await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id: first.body.eventId } });
    expect(JSON.stringify(event.payload)).not.toMatch(/ignored|floor/);
  });
});

describe("money", () => {
  it("accepts amounts past 32 bits up to 2^53 - 1 and answers them as JSON numbers; refuses more with 400", async () => {
    const product = (price: number) =>
      post(api.app, "/api/products", { tenantId: shop.tenantId, sellerId: shop.sellerId, categoryId: "c", name: "dear", price, stock: 5 }, shop.auth);
    const biggest = await product(Number.MAX_SAFE_INTEGER);
    expect(biggest.status).toBe(201);
    expect(biggest.body.price).toBe(Number.MAX_SAFE_INTEGER);
    const read = await api.app.inject({ method: "GET", url: `/api/products/${biggest.body.id}`, headers: shop.auth });
    expect(read.body).toContain(`"price":${Number.MAX_SAFE_INTEGER}`);

    const before = await tableDigests(api.prisma);
    for (const price of [2 ** 53, 1e300]) {
      const refused = await product(price);
      expect(refused.status).toBe(400);
      expect(refused.body.issues).toEqual([{ path: "price", message: `must be at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1)` }]);
    }
    const tooDear = await post(api.app, "/api/orders", { ...orderBody(shop.tenantId, biggest.body.id, 2, Number.MAX_SAFE_INTEGER) }, shop.auth);
    expect(tooDear.status).toBe(400);
    expect(tooDear.body.issues).toEqual([{ path: "items", message: expect.stringMatching(/exceeds 9007199254740991/) as unknown }]);
    expect((await post(api.app, "/api/payments", { orderId, amount: 2 ** 60 }, shop.auth)).status).toBe(400);
    expect(await tableDigests(api.prisma)).toEqual(before);
  });
});
