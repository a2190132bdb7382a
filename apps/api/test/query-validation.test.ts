import { randomUUID } from "node:crypto";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeAttemptCursor } from "outbox-relay/webhooks";
import { admin, post, seedShop, startApi, type ApiHarness, type ApiBody, type Auth } from "./helpers.ts";

/**
 * The attacker's times, cursors and numbers: each route refuses an impossible value with 400
 * VALIDATION_FAILED and an issue naming the parameter, before anything reaches Postgres (which
 * would answer a 500). openapi.test.ts walks the document for the parameters a later route adds.
 */

let api: ApiHarness;
let shop: Awaited<ReturnType<typeof seedShop>>;
let attempts: string;

beforeAll(async () => {
  api = await startApi({ queues: true, env: { ENCRYPTION_KEY: "query-validation-test-key-of-32-chars-plus" } });
  shop = await seedShop(api.app);
  const endpoint = await post(api.app, `/api/tenants/${shop.tenantId}/webhook-endpoints`, { url: "https://example.com/hooks", events: ["*"] }, shop.auth);
  expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
  attempts = `/api/tenants/${shop.tenantId}/webhook-endpoints/${endpoint.body.id}/attempts`;
});
afterAll(async () => {
  await api.close();
});

const id = "9b2f3c1e-8a4d-4f6b-9c0e-2d7a5b1f3e44";
const cursor = (createdAt: string) => encodeAttemptCursor({ createdAt, id });

/** Times no calendar or clock has, or Postgres cannot hold. */
const impossibleTimes = [
  "2026-13-01T00:00:00Z",
  "2026-01-45T00:00:00Z",
  "2026-02-29T00:00:00Z",
  "2026-02-30T12:00:00Z",
  "1900-02-29T00:00:00Z",
  "2026-01-01T25:00:00Z",
  "2026-01-01T23:61:00Z",
  "2026-01-01T23:59:61Z",
  "2026-01-01T00:00:00+25:00",
  "+300000-01-01T00:00:00Z",
  "300000-01-01T00:00:00Z",
  "2026-13-45 25:61:61",
  "2026-01-01T00:00:00",
  "NaN",
  "",
];

/** Cursors the server never issued: impossible times, a year Postgres refuses, an offset past its range, junk. */
const foreignCursors = [
  cursor("2026-13-45 25:61:61+00"),
  cursor("2026-02-29 00:00:00+00"),
  cursor("2026-04-31 00:00:00+00"),
  cursor("2026-01-01 24:00:00+00"),
  cursor("0000-01-01 00:00:00+00"),
  cursor("2026-01-01 00:00:00+16"),
  cursor("2026-01-01 00:00:00.1234567+00"),
  `${cursor("2026-01-01 00:00:00+00")}!`,
  Buffer.from(`2026-01-01 00:00:00+00|not-an-id`).toString("base64url"),
  "nonsense",
  "",
];

/** Page sizes that are not whole numbers from 1 to the route's maximum, among them past 2^31, 2^53 and 2^64. */
const impossibleLimits = ["", " ", "NaN", "Infinity", "-1", "0", "1.5", "1e400", "2147483648", "9007199254740993", "18446744073709551616", "ten"];

interface Case {
  name: string;
  call: InjectOptions;
  field: string;
}

function queryCases(path: string, field: string, values: string[], auth: Auth): Case[] {
  return values.map((value) => ({ name: `${path} ${field}=${JSON.stringify(value)}`, call: { method: "GET", url: `${path}?${field}=${encodeURIComponent(value)}`, headers: auth }, field }));
}

function bodyCases(url: string, base: Record<string, unknown>, field: string, values: unknown[], auth: Auth): Case[] {
  return values.map((value) => ({ name: `POST ${url} ${field}: ${JSON.stringify(value)}`, call: { method: "POST", url, payload: { ...base, [field]: value }, headers: auth }, field }));
}

async function expectRefusedNaming({ name, call, field }: Case): Promise<void> {
  const answer = await api.app.inject(call);
  expect(answer.statusCode, `${name}: ${answer.body}`).toBe(400);
  const body = answer.json<ApiBody>();
  expect(body.code, name).toBe("VALIDATION_FAILED");
  expect(body.issues.map((issue) => issue.path), name).toContain(field);
}

describe("impossible times, cursors and numbers answer 400 naming the parameter", () => {
  it("GET webhook attempts: a cursor the server did not issue, a page size out of range", async () => {
    for (const item of [...queryCases(attempts, "before", foreignCursors, shop.auth), ...queryCases(attempts, "limit", [...impossibleLimits, "101"], shop.auth)]) {
      await expectRefusedNaming(item);
    }
    const repeated = { method: "GET", url: `${attempts}?limit=1&limit=2&before=a&before=b`, headers: shop.auth } as const;
    await expectRefusedNaming({ name: "repeated limit", call: repeated, field: "limit" });
    await expectRefusedNaming({ name: "repeated before", call: repeated, field: "before" });
  });

  it("GET webhook attempts still takes a cursor of a real time: a leap day, an offset with seconds", async () => {
    for (const createdAt of ["2024-02-29 23:59:59.999999+00", "1890-01-01 00:00:00+00:19:32", "2026-06-30 12:00:00-09:30"]) {
      const answer = await api.app.inject({ method: "GET", url: `${attempts}?limit=5&before=${cursor(createdAt)}`, headers: shop.auth });
      expect(answer.statusCode, `${createdAt}: ${answer.body}`).toBe(200);
    }
  });

  it("the admin's lists: dead letters, outbox events, held aggregates", async () => {
    const cases = [
      ...queryCases("/admin/api/dlq", "limit", [...impossibleLimits, "1001"], admin),
      ...queryCases("/admin/api/dlq", "type", [""], admin),
      ...queryCases("/admin/outbox/api/events", "limit", [...impossibleLimits, "501"], admin),
      ...queryCases("/admin/outbox/api/events", "before", ["", "-1", "1.5", "9223372036854775808", "abc"], admin),
      ...queryCases("/admin/outbox/api/events", "causedBy", ["", "not-a-uuid"], admin),
      ...queryCases("/admin/outbox/api/held", "limit", [...impossibleLimits, "1001"], admin),
    ];
    for (const item of cases) await expectRefusedNaming(item);
  });

  it("POST /admin/api/replay: since and until", async () => {
    const base = { type: "TenantCreated", since: "2026-01-01T00:00:00Z" };
    for (const field of ["since", "until"]) {
      for (const item of bodyCases("/admin/api/replay", base, field, [...impossibleTimes, 20260101, null], admin)) await expectRefusedNaming(item);
    }
  });

  it("the outbox page's replay form refuses the same times (an HTML page naming the field)", async () => {
    for (const since of impossibleTimes.filter((value) => value !== "")) {
      const answer = await api.app.inject({ method: "GET", url: `/admin/outbox/replay?since=${encodeURIComponent(since)}`, headers: admin });
      expect(answer.statusCode, since).toBe(400);
      expect(answer.body, since).toContain("since");
    }
  });

  it("the times today's clients send still pass", async () => {
    for (const since of [new Date(Date.now() - 60_000).toISOString(), "2024-02-29T00:00:00Z", "2026-01-01T00:00:00.123456789+14:00", "0001-01-01T00:00:00-12:00"]) {
      const answer = await post(api.app, "/admin/api/replay", { type: "TenantCreated", since }, admin);
      expect(answer.status, `${since}: ${JSON.stringify(answer.body)}`).toBe(200);
    }
  });

  it("numbers past what their column holds: money past 2^53 - 1, counts past 2^31", async () => {
    const order = { tenantId: shop.tenantId, customerId: shop.customerId, customerEmail: "ada@example.com" };
    const item = { productId: shop.productId, quantity: 1, unitPrice: shop.price };
    const cases = [
      ...bodyCases("/api/products", { tenantId: shop.tenantId }, "price", [2 ** 53, 1e300, -1, 1.5, "12"], shop.auth),
      ...bodyCases("/api/products", { tenantId: shop.tenantId }, "stock", [2 ** 31, -1, 1.5, null], shop.auth),
      ...bodyCases("/api/payments", { orderId: randomUUID() }, "amount", [2 ** 53, -1, 0.5, "100"], shop.auth),
    ];
    for (const [field, values] of [["quantity", [2 ** 31, 0, 1.5]], ["unitPrice", [2 ** 53, -1, 0.5]]] as const) {
      for (const value of values) {
        const payload = { ...order, items: [{ ...item, [field]: value }] };
        cases.push({ name: `POST /api/orders items.0.${field}: ${value}`, call: { method: "POST", url: "/api/orders", payload, headers: shop.auth }, field: `items.0.${field}` });
      }
    }
    for (const refused of cases) await expectRefusedNaming(refused);
  });
});
