import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@outbox/testing";
import { decryptSecret } from "outbox-relay/webhooks";
import { admin, anotherApp, bearer, orderBody, post, seedShop, seedTenant, startApi, tableDigests, type ApiHarness, type Auth } from "./helpers.ts";

const encryptionKey = "auth-test-encryption-key-of-32-chars-plus";
let api: ApiHarness;
/** Tenant A owns every resource below; tenant B only has its key. */
let a: Awaited<ReturnType<typeof seedShop>>;
let b: Awaited<ReturnType<typeof seedShop>>;

beforeAll(async () => {
  api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey } });
  a = await seedShop(api.app, { stock: 1000 });
  b = await seedShop(api.app);
});
afterAll(async () => {
  await api.close();
});

async function call(method: "GET" | "POST" | "DELETE", url: string, payload: unknown, auth: Partial<Auth>) {
  const response = await api.app.inject({ method, url, headers: { ...auth }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: response.statusCode, headers: response.headers, body: response.json<Record<string, unknown>>() };
}

/** An order of tenant A waiting for its payment (the handler's outcome done by hand). */
async function awaitingOrder(): Promise<{ id: string; totalAmount: number; eventId: string }> {
  const order = await post(api.app, "/api/orders", orderBody(a.tenantId, a.productId, 1), a.auth);
  await api.prisma.order.update({ where: { id: order.body.id }, data: { status: "awaiting_payment" } });
  return { id: order.body.id, totalAmount: order.body.totalAmount, eventId: order.body.eventId };
}

async function pendingPayment(): Promise<string> {
  const order = await awaitingOrder();
  return (await post(api.app, "/api/payments", { orderId: order.id, amount: order.totalAmount }, a.auth)).body.id;
}

async function endpoint(): Promise<string> {
  const created = await post(api.app, `/api/tenants/${a.tenantId}/webhook-endpoints`, { url: "https://hooks.example.com/a", events: ["*"] }, a.auth);
  return created.body.id;
}

interface RouteCase {
  name: string;
  method: "GET" | "POST" | "DELETE";
  /** Makes what the request needs, of tenant A; returns its url and body. */
  prepare: () => Promise<{ url: string; payload?: unknown }>;
  /** With tenant B's key: 404 for a resource of A, 403 for a body naming A. */
  foreign: 403 | 404;
  ok: number;
}

const cases: RouteCase[] = [
  { name: "POST /api/users", method: "POST", foreign: 403, ok: 201, prepare: async () => ({ url: "/api/users", payload: { tenantId: a.tenantId, email: `${randomUUID()}@example.com`, role: "customer" } }) },
  {
    name: "POST /api/products", method: "POST", foreign: 403, ok: 201,
    prepare: async () => ({ url: "/api/products", payload: { tenantId: a.tenantId, sellerId: a.sellerId, categoryId: "c", name: "x", price: 1, stock: 1 } }),
  },
  { name: "POST /api/orders", method: "POST", foreign: 403, ok: 201, prepare: async () => ({ url: "/api/orders", payload: orderBody(a.tenantId, a.productId, 1) }) },
  { name: "GET /api/orders/:id", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/orders/${(await awaitingOrder()).id}` }) },
  { name: "POST /api/orders/:id/cancel", method: "POST", foreign: 404, ok: 202, prepare: async () => ({ url: `/api/orders/${(await awaitingOrder()).id}/cancel`, payload: { reason: "no" } }) },
  {
    name: "POST /api/payments", method: "POST", foreign: 404, ok: 201,
    prepare: async () => {
      const order = await awaitingOrder();
      return { url: "/api/payments", payload: { orderId: order.id, amount: order.totalAmount } };
    },
  },
  { name: "GET /api/payments/:id", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/payments/${await pendingPayment()}` }) },
  { name: "POST /api/payments/:id/complete", method: "POST", foreign: 404, ok: 202, prepare: async () => ({ url: `/api/payments/${await pendingPayment()}/complete`, payload: { succeeded: true } }) },
  { name: "GET /api/products/:id", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/products/${a.productId}` }) },
  { name: "GET /api/events/:id", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/events/${(await awaitingOrder()).eventId}` }) },
  {
    name: "POST /api/tenants/:id/webhook-endpoints", method: "POST", foreign: 404, ok: 201,
    prepare: async () => ({ url: `/api/tenants/${a.tenantId}/webhook-endpoints`, payload: { url: "https://hooks.example.com/x", events: ["*"] } }),
  },
  { name: "GET /api/tenants/:id/webhook-endpoints", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/tenants/${a.tenantId}/webhook-endpoints` }) },
  ...(["disable", "enable", "rotate-secret"] as const).map((action): RouteCase => ({
    name: `POST /api/tenants/:id/webhook-endpoints/:endpointId/${action}`, method: "POST", foreign: 404, ok: 200,
    prepare: async () => ({ url: `/api/tenants/${a.tenantId}/webhook-endpoints/${await endpoint()}/${action}` }),
  })),
  { name: "POST /api/tenants/:id/api-keys", method: "POST", foreign: 404, ok: 201, prepare: async () => ({ url: `/api/tenants/${a.tenantId}/api-keys`, payload: { name: "extra" } }) },
  { name: "GET /api/tenants/:id/api-keys", method: "GET", foreign: 404, ok: 200, prepare: async () => ({ url: `/api/tenants/${a.tenantId}/api-keys` }) },
  {
    name: "DELETE /api/tenants/:id/api-keys/:keyId", method: "DELETE", foreign: 404, ok: 200,
    prepare: async () => {
      const extra = await post(api.app, `/api/tenants/${a.tenantId}/api-keys`, {}, a.auth);
      return { url: `/api/tenants/${a.tenantId}/api-keys/${extra.body.id}` };
    },
  },
];

describe("every tenant route", () => {
  it.each(cases)("$name: no key 401, another tenant's key $foreign and nothing written, its own key works", async ({ method, prepare, foreign, ok }) => {
    const { url, payload } = await prepare();
    const before = await tableDigests(api.prisma);

    for (const auth of [{}, bearer(`ok_live_${"x".repeat(43)}`), { authorization: "Bearer not-a-key" }, { authorization: "Token abc" }]) {
      const anonymous = await call(method, url, payload, auth);
      expect(anonymous.status, JSON.stringify(auth)).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toBe("Bearer");
      expect(anonymous.body).toMatchObject({ code: expect.stringMatching(/^(AUTHENTICATION_REQUIRED|INVALID_CREDENTIALS)$/) as unknown });
    }
    const other = await call(method, url, payload, b.auth);
    expect(other.status, JSON.stringify(other.body)).toBe(foreign);
    expect(await tableDigests(api.prisma)).toEqual(before);

    const own = await call(method, url, payload, a.auth);
    expect(own.status, JSON.stringify(own.body)).toBe(ok);
  });

  it("accepts the admin credentials on every tenant route", async () => {
    for (const { method, prepare, ok } of cases) {
      const { url, payload } = await prepare();
      expect((await call(method, url, payload, admin)).status, `${method} ${url}`).toBe(ok);
    }
  });

  it("answers another tenant's resources exactly as unknown ones", async () => {
    const order = await awaitingOrder();
    const foreign = await call("GET", `/api/orders/${order.id}`, undefined, b.auth);
    const unknownId = randomUUID();
    const unknown = await call("GET", `/api/orders/${unknownId}`, undefined, b.auth);
    expect(foreign.body).toEqual({ ...unknown.body, error: (unknown.body.error as string).replace(unknownId, order.id) });
  });
});

describe("over HTTP, and on the hot path", () => {
  it("a real listener answers 401 with WWW-Authenticate: Bearer, then works with the key and stops at once when it is revoked", async () => {
    const app = await anotherApp(api);
    try {
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      const tenant = await seedTenant(app);
      const url = `${base}/api/tenants/${tenant.tenantId}/api-keys`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe("Bearer");
      expect((await fetch(url, { headers: tenant.auth })).status).toBe(200);
      const next = (await (await fetch(url, { method: "POST", headers: { ...tenant.auth, "content-type": "application/json" }, body: "{}" })).json()) as { apiKey: string };
      expect((await fetch(`${url}/${tenant.apiKeyId}`, { method: "DELETE", headers: bearer(next.apiKey) })).status).toBe(200);
      expect((await fetch(url, { headers: tenant.auth })).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it("authenticating POST /api/orders with a key seen in the last API_KEY_CACHE_TTL_MS costs no statement: the order stays two round trips", async () => {
    let checkouts = 0;
    const count = () => checkouts++;
    await post(api.app, "/api/orders", orderBody(a.tenantId, a.productId, 1), a.auth);
    api.sql.pool.on("acquire", count);
    try {
      const order = await post(api.app, "/api/orders", orderBody(a.tenantId, a.productId, 1), a.auth);
      expect(order.status).toBe(201);
      expect(checkouts).toBe(2);
    } finally {
      api.sql.pool.off("acquire", count);
    }
  });
});

describe("POST /api/tenants", () => {
  it("needs the admin credentials: none 401 with a Basic challenge, a wrong password or user 401, a tenant's key 403", async () => {
    const body = { name: "Nope", slug: `nope-${randomUUID().slice(0, 8)}` };
    const before = await tableDigests(api.prisma);
    const none = await call("POST", "/api/tenants", body, {});
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
    for (const wrong of [basic("admin", "wrong"), basic("admin", ""), basic("root", "outbox-admin"), basic("admin", "outbox-admin-and-more")]) {
      expect((await call("POST", "/api/tenants", body, wrong)).status).toBe(401);
    }
    const tenantKey = await call("POST", "/api/tenants", body, a.auth);
    expect(tenantKey).toMatchObject({ status: 403, body: { code: "ADMIN_REQUIRED" } });
    expect(await tableDigests(api.prisma)).toEqual(before);
  });

  it("answers the tenant and its API key once; only the key's SHA-256 is stored", async () => {
    const created = await call("POST", "/api/tenants", { name: "Keyed", slug: `keyed-${randomUUID().slice(0, 8)}` }, admin);
    expect(created.status).toBe(201);
    const apiKey = created.body.apiKey as string;
    expect(apiKey).toMatch(/^ok_live_[A-Za-z0-9_-]{43}$/);
    const [row] = await api.prisma.apiKey.findMany({ where: { tenantId: created.body.id as string } });
    expect(row).toMatchObject({ id: created.body.apiKeyId, prefix: apiKey.slice(0, 12), keyHash: createHash("sha256").update(apiKey).digest("hex"), revokedAt: null });
    const stored = JSON.stringify(await api.prisma.$queryRawUnsafe(`SELECT * FROM api_keys`));
    expect(stored).not.toContain(apiKey);
    expect(stored).not.toContain(apiKey.slice(12));
    const list = await call("GET", `/api/tenants/${created.body.id as string}/api-keys`, undefined, bearer(apiKey));
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(apiKey.slice(12));
    expect(JSON.stringify(list.body)).not.toContain(row!.keyHash);
  });
});

describe("API keys", () => {
  it("rotate with no downtime, and a revoked key stops working at once", async () => {
    const tenant = await seedTenant(api.app);
    const url = `/api/tenants/${tenant.tenantId}/api-keys`;
    const next = await call("POST", url, { name: "next" }, tenant.auth);
    expect(next).toMatchObject({ status: 201, body: { tenantId: tenant.tenantId, name: "next", revokedAt: null } });
    const nextAuth = bearer(next.body.apiKey as string);
    // Both keys work while clients move over.
    expect((await call("GET", url, undefined, tenant.auth)).status).toBe(200);
    expect((await call("GET", url, undefined, nextAuth)).status).toBe(200);

    const revoked = await call("DELETE", `${url}/${tenant.apiKeyId}`, undefined, nextAuth);
    expect(revoked).toMatchObject({ status: 200, body: { id: tenant.apiKeyId, revokedAt: expect.any(String) as unknown } });
    const refused = await call("GET", url, undefined, tenant.auth);
    expect(refused).toMatchObject({ status: 401, body: { code: "API_KEY_REVOKED" } });
    expect(refused.headers["www-authenticate"]).toBe("Bearer");
    expect((await call("GET", url, undefined, nextAuth)).status).toBe(200);
    // Revoking again keeps the first time; another tenant's key id or an unknown one is 404.
    expect((await call("DELETE", `${url}/${tenant.apiKeyId}`, undefined, nextAuth)).body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await call("DELETE", `${url}/${randomUUID()}`, undefined, nextAuth)).status).toBe(404);
    const aKeyId = (await api.prisma.apiKey.findFirstOrThrow({ where: { tenantId: a.tenantId } })).id;
    expect((await call("DELETE", `${url}/${aKeyId}`, undefined, nextAuth)).status).toBe(404);
    expect((await call("GET", url, undefined, a.auth)).status).toBe(404);
  });

  it("a key revoked through one API process stops working in another within API_KEY_CACHE_TTL_MS", async () => {
    // Another app on the same database: its own key cache, as another API process has.
    const other = await anotherApp(api, { API_KEY_CACHE_TTL_MS: "300" });
    try {
      const tenant = await seedTenant(api.app);
      const next = await call("POST", `/api/tenants/${tenant.tenantId}/api-keys`, {}, tenant.auth);
      const url = `/api/tenants/${tenant.tenantId}/api-keys`;
      const onOther = async () => (await other.inject({ method: "GET", url, headers: tenant.auth })).statusCode;
      expect(await onOther()).toBe(200);
      await call("DELETE", `${url}/${tenant.apiKeyId}`, undefined, bearer(next.body.apiKey as string));
      expect((await call("GET", url, undefined, tenant.auth)).status).toBe(401);
      await waitFor(async () => (await onOther()) === 401, { timeoutMs: 5000, message: "the other process refuses the revoked key" });
    } finally {
      await other.close();
    }
  });

  it("scopes Idempotency-Keys by tenant: another tenant's use of the same key is its own request", async () => {
    const key = randomUUID();
    const first = await post(api.app, "/api/orders", orderBody(a.tenantId, a.productId, 1), { ...a.auth, "idempotency-key": key });
    const theirs = await post(api.app, "/api/orders", orderBody(b.tenantId, b.productId, 1), { ...b.auth, "idempotency-key": key });
    expect(first.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers["idempotent-replayed"]).toBeUndefined();
    expect(theirs.body.id).not.toBe(first.body.id);
    const replay = await post(api.app, "/api/orders", orderBody(a.tenantId, a.productId, 1), { ...a.auth, "idempotency-key": key });
    expect(replay.body.id).toBe(first.body.id);
  });
});

describe("webhook secrets", () => {
  it("a rotated secret is never readable by another tenant", async () => {
    const created = await post(api.app, `/api/tenants/${a.tenantId}/webhook-endpoints`, { url: "https://hooks.example.com/secret", events: ["*"] }, a.auth);
    const url = `/api/tenants/${a.tenantId}/webhook-endpoints/${created.body.id}`;
    const before = await api.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.body.id } });

    const stolen = await call("POST", `${url}/rotate-secret`, undefined, b.auth);
    expect(stolen.status).toBe(404);
    expect(JSON.stringify(stolen.body)).not.toMatch(/whsec_/);
    const after = await api.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(after.secretEncrypted).toBe(before.secretEncrypted);
    expect(decryptSecret(after.secretEncrypted, encryptionKey)).toBe(created.body.secret);
    // Nor through B's own path, nor a listing.
    const viaOwnPath = await call("POST", `/api/tenants/${b.tenantId}/webhook-endpoints/${created.body.id}/rotate-secret`, undefined, b.auth);
    expect(viaOwnPath.status).toBe(404);
    expect((await call("GET", `/api/tenants/${a.tenantId}/webhook-endpoints`, undefined, b.auth)).status).toBe(404);

    const rotated = await call("POST", `${url}/rotate-secret`, undefined, a.auth);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    const listed = await call("GET", `/api/tenants/${a.tenantId}/webhook-endpoints`, undefined, a.auth);
    expect(JSON.stringify(listed.body)).not.toContain(rotated.body.secret as string);
  });
});
