import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@outbox/db";
import { decryptSecret } from "outbox-relay/webhooks";
import { admin, anotherApp, countRows, seedTenant, startApi, type ApiHarness, type Auth } from "./helpers.ts";

const encryptionKey = "route-test-encryption-key-of-32-chars-plus";
let api: ApiHarness;
let prisma: PrismaClient;
let app: FastifyInstance;
let tenantId: string;
let auth: Auth;

const appWith = (env: Record<string, string>) => anotherApp(api, env);

beforeAll(async () => {
  api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey } });
  prisma = api.prisma;
  app = api.app;
  ({ tenantId, auth } = await seedTenant(app));
});
afterAll(async () => {
  await api?.close();
});

const base = () => `/api/tenants/${tenantId}/webhook-endpoints`;
const call = (method: "GET" | "POST", url: string, payload?: unknown, as: Auth = auth) =>
  app.inject({ method, url, headers: as, ...(payload === undefined ? {} : { payload: payload as object }) });
const register = (payload: unknown, tenant = tenantId, as: Auth = auth) => call("POST", `/api/tenants/${tenant}/webhook-endpoints`, payload, as);

describe("webhook endpoint routes", () => {
  it("registers an endpoint and returns its whsec_ secret once, stored encrypted", async () => {
    const response = await register({ url: "https://hooks.example.com/outbox", events: ["order.created", "payment.completed"] });
    expect(response.statusCode).toBe(201);
    const body = response.json<{ id: string; secret: string; url: string; events: string[]; enabled: boolean }>();
    expect(body).toMatchObject({ tenantId, url: "https://hooks.example.com/outbox", events: ["order.created", "payment.completed"], enabled: true, consecutiveFailures: 0 });
    expect(body.secret).toMatch(/^whsec_/);

    const row = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: body.id } });
    expect(row.secretEncrypted).not.toBe(body.secret);
    expect(row.secretEncrypted).not.toContain(body.secret.slice("whsec_".length));
    expect(decryptSecret(row.secretEncrypted, encryptionKey)).toBe(body.secret);
    expect(() => decryptSecret(row.secretEncrypted, "the wrong key, also 32 characters long")).toThrow(/cannot be decrypted/);

    const list = await call("GET", base());
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(body.secret);
    expect(list.body).not.toContain(row.secretEncrypted);
    expect(list.body).not.toMatch(/secret"/i);
    expect(list.json<{ endpoints: { id: string }[] }>().endpoints.map((e) => e.id)).toContain(body.id);
  });

  it("answers 400 with field-level issues for a bad url or events, and writes nothing", async () => {
    const before = await prisma.webhookEndpoint.count();
    const cases: [unknown, { path: string; message: RegExp }[]][] = [
      [{ url: "http://hooks.example.com/x", events: ["*"] }, [{ path: "url", message: /must use https/ }]],
      [{ url: "not a url", events: ["*"] }, [{ path: "url", message: /absolute URL/ }]],
      [{ url: "https://user:pw@hooks.example.com/", events: ["*"] }, [{ path: "url", message: /credentials/ }]],
      [{ url: "https://127.0.0.1/x", events: ["*"] }, [{ path: "url", message: /loopback/ }]],
      [{ url: "https://169.254.169.254/", events: ["*"] }, [{ path: "url", message: /cloud metadata/ }]],
      [{ url: "https://[::1]/", events: ["*"] }, [{ path: "url", message: /loopback/ }]],
      [{ url: "https://localhost/x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      // Trailing dots name the same host; IPv6 forms carrying IPv4 (translated, NAT64, local-use NAT64, 6to4) are refused whatever they carry.
      [{ url: "https://localhost./x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://LOCALHOST../x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://api.localhost./x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://intranet./x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://metadata.google.internal/x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://printer.local/x", events: ["*"] }, [{ path: "url", message: /public host/ }]],
      [{ url: "https://127.0.0.1./x", events: ["*"] }, [{ path: "url", message: /loopback/ }]],
      [{ url: "https://[::ffff:0:7f00:1]/x", events: ["*"] }, [{ path: "url", message: /IPv4-translated/ }]],
      [{ url: "https://[::ffff:127.0.0.1]/x", events: ["*"] }, [{ path: "url", message: /IPv4-mapped/ }]],
      [{ url: "https://[64:ff9b::7f00:1]/x", events: ["*"] }, [{ path: "url", message: /NAT64/ }]],
      [{ url: "https://[64:ff9b::808:808]/x", events: ["*"] }, [{ path: "url", message: /NAT64/ }]],
      [{ url: "https://[64:ff9b:1::a9fe:a9fe]/x", events: ["*"] }, [{ path: "url", message: /NAT64/ }]],
      [{ url: "https://[2002:7f00:1::]/x", events: ["*"] }, [{ path: "url", message: /6to4/ }]],
      [{ url: "https://[::7f00:1]/x", events: ["*"] }, [{ path: "url", message: /IPv4-compatible/ }]],
      [{ url: "ftp://hooks.example.com/", events: ["*"] }, [{ path: "url", message: /https/ }]],
      [{ url: "https://hooks.example.com/", events: [] }, [{ path: "events", message: /non-empty array/ }]],
      [{ url: "https://hooks.example.com/", events: ["order.created", "order.shipped"] }, [{ path: "events.1", message: /must be one of/ }]],
      [{ events: "order.created" }, [{ path: "url", message: /required/ }, { path: "events", message: /non-empty array/ }]],
    ];
    for (const [payload, expected] of cases) {
      const response = await register(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      const body = response.json<{ error: string; code: string; issues: { path: string; message: string }[] }>();
      expect(body.code).toBe("VALIDATION_FAILED");
      expect(typeof body.error).toBe("string");
      expect(body.issues).toHaveLength(expected.length);
      expected.forEach((issue, i) => {
        expect(body.issues[i]!.path).toBe(issue.path);
        expect(body.issues[i]!.message).toMatch(issue.message);
      });
    }
    expect((await call("POST", base(), [1, 2])).statusCode).toBe(400);
    expect(await prisma.webhookEndpoint.count()).toBe(before);
  });

  it("accepts http and loopback only when WEBHOOK_ALLOW_PRIVATE_NETWORKS=true", async () => {
    const open = await appWith({ ENCRYPTION_KEY: encryptionKey, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    try {
      const response = await open.inject({ method: "POST", url: base(), headers: auth, payload: { url: "http://127.0.0.1:9999/hooks", events: ["*", "order.created"] } });
      expect(response.statusCode).toBe(201);
      expect(response.json<{ events: string[] }>().events).toEqual(["*"]);
    } finally {
      await open.close();
    }
  });

  it("answers 404 for an unknown tenant or endpoint", async () => {
    const unknownTenant = await register({ url: "https://hooks.example.com/", events: ["*"] }, randomUUID(), admin);
    expect(unknownTenant.statusCode).toBe(404);
    expect(unknownTenant.json<{ code: string }>().code).toBe("TENANT_NOT_FOUND");
    expect((await register({ url: "https://hooks.example.com/", events: ["*"] }, "not-a-uuid", admin)).statusCode).toBe(404);
    expect((await call("GET", `/api/tenants/${randomUUID()}/webhook-endpoints`, undefined, admin)).statusCode).toBe(404);
    for (const action of ["disable", "enable", "rotate-secret"]) {
      expect((await call("POST", `${base()}/${randomUUID()}/${action}`)).statusCode).toBe(404);
      expect((await call("POST", `${base()}/nope/${action}`)).statusCode).toBe(404);
    }
    // Another tenant's endpoint is not reachable through this tenant's path.
    const other = await seedTenant(app);
    const theirs = (await register({ url: "https://hooks.example.com/other", events: ["*"] }, other.tenantId, other.auth)).json<{ id: string }>();
    expect((await call("POST", `${base()}/${theirs.id}/disable`)).statusCode).toBe(404);
  });

  it("disables, enables (resetting failures) and rotates the secret", async () => {
    const created = (await register({ url: "https://hooks.example.com/rotate", events: ["*"] })).json<{ id: string; secret: string }>();
    await prisma.webhookEndpoint.update({ where: { id: created.id }, data: { consecutiveFailures: 4 } });

    const disabled = await call("POST", `${base()}/${created.id}/disable`, { reason: "maintenance" });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ enabled: false, disabledReason: "maintenance" });
    const plain = await call("POST", `${base()}/${created.id}/disable`);
    expect(plain.json()).toMatchObject({ enabled: false, disabledReason: "disabled by the tenant" });

    const enabled = await call("POST", `${base()}/${created.id}/enable`);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });

    const rotated = await call("POST", `${base()}/${created.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json<{ secret: string; previousSecretExpiresAt: string }>();
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(created.secret);
    const graceHours = (Date.parse(body.previousSecretExpiresAt) - Date.now()) / 3_600_000;
    expect(graceHours).toBeGreaterThan(23.9);
    expect(graceHours).toBeLessThanOrEqual(24);
    const row = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } });
    expect(decryptSecret(row.secretEncrypted, encryptionKey)).toBe(body.secret);
    expect(decryptSecret(row.previousSecretEncrypted!, encryptionKey)).toBe(created.secret);
  });

  it("refuses to register endpoints with 503 when ENCRYPTION_KEY is not set (outside production)", async () => {
    const keyless = await appWith({});
    try {
      const response = await keyless.inject({ method: "POST", url: base(), headers: auth, payload: { url: "https://hooks.example.com/", events: ["*"] } });
      expect(response.statusCode).toBe(503);
      const body = response.json<{ code: string; error: string }>();
      expect(body.code).toBe("WEBHOOK_ENCRYPTION_KEY_MISSING");
      expect(body.error).toMatch(/ENCRYPTION_KEY is not set/);
    } finally {
      await keyless.close();
    }
  });
});

describe("the cap on endpoints per tenant (WEBHOOK_ENDPOINTS_PER_TENANT_MAX)", () => {
  const hook = (n: number) => ({ url: `https://hooks.example.com/amplify/${n}`, events: ["*"] });

  it("refuses one more endpoint with 409 WEBHOOK_ENDPOINT_LIMIT naming the limit, writing nothing; disabled ones count, deleted ones do not", async () => {
    const capped = await appWith({ ENCRYPTION_KEY: encryptionKey, WEBHOOK_ENDPOINTS_PER_TENANT_MAX: "3" });
    try {
      const tenant = await seedTenant(capped);
      const registerOn = (n: number) => capped.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/webhook-endpoints`, headers: tenant.auth, payload: hook(n) });
      const ids: string[] = [];
      for (const n of [1, 2, 3]) ids.push((await registerOn(n)).json<{ id: string }>().id);
      const before = await countRows(prisma);
      const refused = await registerOn(4);
      expect(refused.statusCode).toBe(409);
      const body = refused.json<{ code: string; error: string }>();
      expect(body.code).toBe("WEBHOOK_ENDPOINT_LIMIT");
      expect(body.error).toMatch(/3 webhook endpoints.*WEBHOOK_ENDPOINTS_PER_TENANT_MAX=3/);
      expect(await countRows(prisma)).toEqual(before);

      const endpointUrl = `/api/tenants/${tenant.tenantId}/webhook-endpoints/${ids[0]}`;
      expect((await capped.inject({ method: "POST", url: `${endpointUrl}/disable`, headers: tenant.auth })).statusCode).toBe(200);
      expect((await registerOn(5)).statusCode).toBe(409);
      expect((await capped.inject({ method: "DELETE", url: endpointUrl, headers: tenant.auth })).statusCode).toBe(200);
      expect((await registerOn(6)).statusCode).toBe(201);
    } finally {
      await capped.close();
    }
  });

  it("holds under concurrent registrations: of 14 at once with the default cap, exactly 10 are made", async () => {
    const tenant = await seedTenant(app);
    const answers = await Promise.all(
      Array.from({ length: 14 }, (_, n) => app.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/webhook-endpoints`, headers: tenant.auth, payload: hook(n) })),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([...Array<number>(10).fill(201), ...Array<number>(4).fill(409)]);
    expect(await prisma.webhookEndpoint.count({ where: { tenantId: tenant.tenantId } })).toBe(10);
  });
});
