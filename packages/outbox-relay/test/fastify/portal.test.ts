import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { portalPlugin } from "../../src/fastify/index.ts";
import { Database } from "../../src/sql/index.ts";
import { createEndpoint, mintPortalLink, PortalKeyMissingError, signPortalToken, verifyPortalToken } from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptionKey } from "../webhooks/fixtures.ts";

/**
 * The portal as any service mounts it, from the package's entry points alone: its own Database,
 * no tenants table, no access hook of its own (apps/api/test/portal*.test.ts test it in the shop).
 */
let database: TestDatabase;
let db: Database;
let app: FastifyInstance;
const settings = { encryptionKey, allowPrivateNetworks: false, eventTypes: ["greeting.sent"] };

beforeAll(async () => {
  database = await createWebhookDatabase();
  db = new Database(database.url, { poolSize: 4 });
  app = Fastify();
  await app.register(portalPlugin, { database: db, endpoints: settings, signingKey: encryptionKey });
});
afterAll(async () => {
  await app?.close();
  await db?.close();
  await database?.drop();
});

describe("portal tokens", () => {
  const tenant = randomUUID();

  it("verify for the kind, tenant and key they were signed for, until they expire", () => {
    const now = Date.now();
    const { token, expiresAt } = signPortalToken(encryptionKey, "link", tenant.toUpperCase(), 60_000, now);
    expect(verifyPortalToken(encryptionKey, "link", token, now)).toEqual({ tenantId: tenant, expiresAt });
    expect(verifyPortalToken(encryptionKey, "link", token, now + 59_999)).not.toBeNull();
    expect(verifyPortalToken(encryptionKey, "link", token, now + 60_000)).toBeNull();
    expect(verifyPortalToken(encryptionKey, "session", token, now)).toBeNull();
    expect(verifyPortalToken(`${encryptionKey}!`, "link", token, now)).toBeNull();
    expect(verifyPortalToken(encryptionKey, "link", token.replace(tenant, randomUUID()), now)).toBeNull();
    expect(verifyPortalToken(encryptionKey, "link", ` ${token}`, now)).toBeNull();
  });

  it("need a signing key and a tenant that is a UUID", () => {
    expect(() => mintPortalLink(undefined, { tenantId: tenant, baseUrl: "https://shop.example" })).toThrow(PortalKeyMissingError);
    expect(() => verifyPortalToken("", "session", "v1.x")).not.toThrow();
    expect(() => signPortalToken(encryptionKey, "link", "acme", 60_000)).toThrow(TypeError);
    const link = mintPortalLink(encryptionKey, { tenantId: tenant, baseUrl: "https://shop.example/ignored/path" });
    expect(link.url).toMatch(/^https:\/\/shop\.example\/portal\/open\?token=v1\./);
  });
});

describe("portalPlugin in a service of its own", () => {
  it("opens a link into a session and lists the tenant's endpoints only", async () => {
    const [mine, theirs] = [randomUUID(), randomUUID()];
    await createEndpoint(db, settings, { tenantId: mine, url: "https://hooks.example.com/mine", events: ["greeting.sent"] });
    await createEndpoint(db, settings, { tenantId: theirs, url: "https://hooks.example.com/theirs", events: ["*"] });
    const link = new URL(mintPortalLink(encryptionKey, { tenantId: mine, baseUrl: "http://localhost" }).url);
    const confirm = await app.inject({ method: "GET", url: link.pathname + link.search });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.headers["set-cookie"]).toBeUndefined();
    const opened = await app.inject({
      method: "POST",
      url: link.pathname,
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
      payload: new URLSearchParams({ token: link.searchParams.get("token")! }).toString(),
    });
    expect(opened.statusCode).toBe(303);
    const cookie = String(opened.headers["set-cookie"]).split(";")[0]!;
    const listing = await app.inject({ method: "GET", url: "/portal", headers: { cookie } });
    expect(listing.statusCode).toBe(200);
    expect(listing.body).toContain("https://hooks.example.com/mine");
    expect(listing.body).not.toContain("theirs");
    expect(listing.body).toContain('value="greeting.sent"');

    const anonymous = await app.inject({ method: "GET", url: "/portal" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBeDefined();
  });

  it("refuses to be mounted under a prefix (its pages link to /portal/…)", async () => {
    const prefixed = Fastify();
    await expect(prefixed.register(portalPlugin, { prefix: "/x", database: db, endpoints: settings, signingKey: encryptionKey }).ready()).rejects.toThrow(/without a prefix/);
    await prefixed.close();
  });
});
