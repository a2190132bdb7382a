import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { address, admin, countRows, orderBody, post, seedShop, startApi, type ApiHarness, type Auth } from "./helpers.ts";

let api: ApiHarness;
let shop: { tenantId: string; productId: string; auth: Auth };
let orderId: string;
let paymentId: string;
let before: Record<string, number>;

beforeAll(async () => {
  api = await startApi();
  shop = await seedShop(api.app);
  const order = await post(api.app, "/api/orders", orderBody(shop.tenantId, shop.productId), shop.auth);
  orderId = order.body.id;
  await api.prisma.order.update({ where: { id: orderId }, data: { status: "awaiting_payment" } });
  paymentId = (await post(api.app, "/api/payments", { orderId, amount: order.body.totalAmount }, shop.auth)).body.id;
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  before = await countRows(api.prisma);
});

async function expectRefused(url: string, payload: unknown, status: number, expected: { path: string; message: RegExp | string }[] = [], auth: Auth = shop.auth) {
  const answer = await post(api.app, url, payload, auth);
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error).toEqual(expect.any(String));
  for (const issue of expected) {
    const found = answer.body.issues?.find((item) => item.path === issue.path);
    expect(found, `issue at ${issue.path} in ${JSON.stringify(answer.body.issues)}`).toBeDefined();
    expect(found!.message).toMatch(issue.message);
  }
  expect(await countRows(api.prisma)).toEqual(before);
  return answer.body;
}

describe("bad request bodies answer 400 with every failing field, and write nothing", () => {
  it("POST /api/tenants", async () => {
    const body = await expectRefused("/api/tenants", {}, 400, [{ path: "name", message: "is required" }, { path: "slug", message: "is required" }], admin);
    expect(body.error).toContain("name is required");
    await expectRefused("/api/tenants", { name: 42, slug: "Not A Slug" }, 400, [{ path: "name", message: /string/ }, { path: "slug", message: /lowercase/ }], admin);
  });

  it("POST /api/users", async () => {
    await expectRefused("/api/users", { tenantId: shop.tenantId, email: "not-an-email", role: "king" }, 400, [
      { path: "email", message: /email/ },
      { path: "role", message: /customer|seller|admin/ },
    ]);
    await expectRefused("/api/users", { email: "a@example.com", role: "customer" }, 400, [{ path: "tenantId", message: "is required" }]);
  });

  it("POST /api/products", async () => {
    await expectRefused(
      "/api/products",
      { tenantId: shop.tenantId, sellerId: "seller", categoryId: "", name: "x", price: 10.5, stock: -1 },
      400,
      [
        { path: "sellerId", message: /UUID/ },
        { path: "categoryId", message: /empty/ },
        { path: "price", message: /integer/ },
        { path: "stock", message: /negative/ },
      ],
    );
    await expectRefused("/api/products", { tenantId: shop.tenantId, sellerId: randomUUID(), categoryId: "c", name: "x", price: "10", stock: 1 }, 400, [
      { path: "price", message: /number/ },
    ]);
  });

  it("POST /api/orders", async () => {
    const good = orderBody(shop.tenantId, shop.productId);
    await expectRefused("/api/orders", {}, 400, [
      { path: "tenantId", message: "is required" },
      { path: "customerId", message: "is required" },
      { path: "customerEmail", message: "is required" },
      { path: "items", message: "is required" },
      { path: "shippingAddress", message: "is required" },
    ]);
    await expectRefused("/api/orders", { ...good, items: [] }, 400, [{ path: "items", message: /at least one item/ }]);
    await expectRefused("/api/orders", { ...good, items: [{ productId: shop.productId, quantity: -2, unitPrice: 1250 }] }, 400, [
      { path: "items.0.quantity", message: /at least 1/ },
    ]);
    await expectRefused("/api/orders", { ...good, items: [{ productId: shop.productId, quantity: "2", unitPrice: -5 }] }, 400, [
      { path: "items.0.quantity", message: /number/ },
      { path: "items.0.unitPrice", message: /negative/ },
    ]);
    await expectRefused("/api/orders", { ...good, shippingAddress: { ...address, country: "XX", city: "" } }, 400, [
      { path: "shippingAddress.country", message: /ISO 3166/ },
      { path: "shippingAddress.city", message: /./ },
    ]);
    await expectRefused("/api/orders", [good], 400, [{ path: "", message: /object/ }]);
  });

  it("POST /api/orders with an unknown product or tenant answers 404 naming it", async () => {
    const unknown = randomUUID();
    const good = orderBody(shop.tenantId, shop.productId);
    const body = await expectRefused("/api/orders", { ...good, items: [...good.items, { productId: unknown, quantity: 1, unitPrice: 100 }] }, 404);
    expect(body).toMatchObject({ code: "PRODUCT_NOT_FOUND" });
    expect(body.error).toContain(unknown);
    const otherShop = await seedShop(api.app);
    before = await countRows(api.prisma);
    const foreign = await expectRefused("/api/orders", orderBody(shop.tenantId, otherShop.productId), 404);
    expect(foreign.error).toContain(otherShop.productId);
    const noTenant = await expectRefused("/api/orders", orderBody("no-such-tenant", shop.productId), 404, [], admin);
    expect(noTenant.error).toContain("tenant no-such-tenant not found");
  });

  it("POST /api/orders/:id/cancel and the payment routes", async () => {
    await expectRefused(`/api/orders/${orderId}/cancel`, {}, 400, [{ path: "reason", message: "is required" }]);
    await expectRefused(`/api/orders/${orderId}/cancel`, { reason: "   " }, 400, [{ path: "reason", message: /./ }]);
    await expectRefused(`/api/orders/${randomUUID()}/cancel`, { reason: "x" }, 404);
    await expectRefused("/api/payments", { orderId, amount: -1 }, 400, [{ path: "amount", message: /negative/ }]);
    await expectRefused("/api/payments", { amount: 10 }, 400, [{ path: "orderId", message: "is required" }]);
    await expectRefused("/api/payments", { orderId: randomUUID(), amount: 10 }, 404);
    await expectRefused(`/api/payments/${paymentId}/complete`, { succeeded: "yes" }, 400, [{ path: "succeeded", message: /true or false/ }]);
    await expectRefused(`/api/payments/${randomUUID()}/complete`, { succeeded: true }, 404);
    await expectRefused("/api/users", { tenantId: randomUUID(), email: "a@example.com", role: "customer" }, 404, [], admin);
    await expectRefused("/api/products", { tenantId: randomUUID(), sellerId: randomUUID(), categoryId: "c", name: "x", price: 1, stock: 1 }, 404, [], admin);
  });
});

describe("malformed, oversized and missing bodies", () => {
  async function raw(payload: string, contentType = "application/json", url = "/api/orders", auth: Auth = shop.auth) {
    const response = await api.app.inject({ method: "POST", url, payload, headers: { "content-type": contentType, ...auth } });
    expect(await countRows(api.prisma)).toEqual(before);
    return { status: response.statusCode, body: response.json<{ error: string; code: string }>() };
  }

  it("malformed JSON answers 400", async () => {
    const answer = await raw('{"tenantId": ');
    expect(answer).toMatchObject({ status: 400, body: { code: "MALFORMED_JSON", error: "request body is not valid JSON" } });
  });

  it("a body over 64 KiB answers 413", async () => {
    const big = JSON.stringify({ ...orderBody(shop.tenantId, shop.productId), padding: "x".repeat(70 * 1024) });
    const answer = await raw(big);
    expect(answer).toMatchObject({ status: 413, body: { code: "BODY_TOO_LARGE" } });
    expect(answer.body.error).toContain("65536");
  });

  it("an empty JSON body and a non-JSON body are refused", async () => {
    expect((await raw("")).status).toBe(400);
    expect((await raw("name=x", "application/x-www-form-urlencoded", "/api/tenants", admin)).status).toBe(415);
    const none = await api.app.inject({ method: "POST", url: "/api/tenants", headers: admin });
    expect(none.statusCode).toBe(400);
    expect(none.json<{ error: string }>().error).toContain("JSON object is required");
  });

  it("unknown ids answer 404 on every GET route", async () => {
    for (const url of [`/api/orders/${randomUUID()}`, `/api/products/${randomUUID()}`, `/api/events/${randomUUID()}`, "/api/orders/not-a-uuid", `/api/payments/${randomUUID()}`]) {
      const response = await api.app.inject({ method: "GET", url, headers: shop.auth });
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ error: string }>().error).toMatch(/not found/);
    }
  });
});
