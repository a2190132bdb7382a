import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { sql } from "outbox-relay/sql";
import { mintPortalLink, signPortalToken } from "outbox-relay/webhooks";
import { admin, anotherApp, seedTenant, startApi, tableDigests, type ApiHarness, type Auth } from "./helpers.ts";

/**
 * The tenant's webhook portal through the API (inject): minting a link, opening it, its session,
 * and every way to misuse them. portal.browser.test.ts drives the pages in Chromium.
 */
const encryptionKey = "portal-test-encryption-key-32-characters-plus";
const logLines: Record<string, unknown>[] = [];
let api: ApiHarness;

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().trim().split("\n")) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey }, logger: createLogger({ level: "info", destination }) });
});
afterAll(async () => {
  await api?.close();
});

type Tenant = { tenantId: string; auth: Auth };

async function mint(tenantId: string, auth: Auth) {
  const response = await api.app.inject({ method: "POST", url: `/api/tenants/${tenantId}/portal-links`, headers: auth });
  return { status: response.statusCode, body: response.json<{ url: string; expiresAt: string; code?: string }>() };
}

/** Opens a link as a browser would (typed in: Sec-Fetch-Site none); the session cookie it sets, if any. */
/** A link as a browser opens it: the page that names the tenant, then its button (a same-origin form POST). */
async function open(url: string) {
  const { pathname, search } = new URL(url);
  const page = await api.app.inject({ method: "GET", url: pathname + search, headers: { "sec-fetch-site": "none" } });
  const token = new URL(url).searchParams.get("token") ?? "";
  const response = await api.app.inject({
    method: "POST",
    url: pathname,
    headers: { "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ token }).toString(),
  });
  const setCookie = [response.headers["set-cookie"] ?? []].flat().join("\n");
  const cookie = /outbox_portal_session=([^;]+)/.exec(setCookie)?.[1];
  return { page, response, setCookie, cookie: cookie ? `outbox_portal_session=${cookie}` : undefined };
}

/** A tenant with a session open in the portal. */
async function signedIn(): Promise<Tenant & { cookie: string }> {
  const tenant = await seedTenant(api.app);
  const link = await mint(tenant.tenantId, tenant.auth);
  expect(link.status).toBe(201);
  const { cookie } = await open(link.body.url);
  return { ...tenant, cookie: cookie! };
}

const page = (url: string, cookie: string, headers: Record<string, string> = {}) => api.app.inject({ method: "GET", url, headers: { cookie, ...headers } });

/** A form post from the portal's own page (Sec-Fetch-Site: same-origin) unless `headers` say otherwise. */
function form(url: string, cookie: string, fields: Record<string, string | string[]> = {}, headers: Record<string, string> = { "sec-fetch-site": "same-origin" }) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) body.append(name, item);
  return api.app.inject({ method: "POST", url, payload: body.toString(), headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers } });
}

async function endpointOf(tenant: Tenant, url = "https://example.com/hooks") {
  const response = await api.app.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/webhook-endpoints`, headers: tenant.auth, payload: { url, events: ["order.created"] } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string; secret: string }>();
}

const endpointRow = (id: string) =>
  api.prisma.$queryRaw<{ enabled: boolean; secret: string; reason: string | null }[]>`
    SELECT enabled, secret_encrypted AS secret, disabled_reason AS reason FROM webhook_endpoints WHERE id = ${id}::uuid`.then((rows) => rows[0]!);

describe("minting a portal link", () => {
  it("answers a link for the tenant's own key and for the admin, valid 15 minutes, for an existing tenant only", async () => {
    const tenant = await seedTenant(api.app);
    const before = Date.now();
    const own = await mint(tenant.tenantId, tenant.auth);
    expect(own.status).toBe(201);
    const url = new URL(own.body.url);
    expect(url.pathname).toBe("/portal/open");
    expect(url.searchParams.get("token")).toMatch(new RegExp(`^v1\\.${tenant.tenantId}\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
    const lifetime = new Date(own.body.expiresAt).getTime() - before;
    expect(lifetime).toBeGreaterThan(14 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(15 * 60_000 + 1000);
    expect((await mint(tenant.tenantId, admin)).status).toBe(201);
    expect((await mint(randomUUID(), admin)).status).toBe(404);
  });

  it("refuses anonymous callers (401) and another tenant's key (404, as for a tenant that does not exist)", async () => {
    const [a, b] = [await seedTenant(api.app), await seedTenant(api.app)];
    expect((await mint(a.tenantId, {} as Auth)).status).toBe(401);
    const cross = await mint(a.tenantId, b.auth);
    expect(cross.status).toBe(404);
    expect(cross.body.code).toBe("TENANT_NOT_FOUND");
  });

  it("answers 503 WEBHOOK_PORTAL_KEY_MISSING without ENCRYPTION_KEY, and the portal's pages answer 503 too", async () => {
    const keyless = await anotherApp(api, { ENCRYPTION_KEY: "" });
    try {
      const tenant = await seedTenant(api.app);
      const response = await keyless.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/portal-links`, headers: tenant.auth });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: "WEBHOOK_PORTAL_KEY_MISSING", error: expect.stringContaining("ENCRYPTION_KEY") as unknown });
      const link = mintPortalLink(encryptionKey, { tenantId: tenant.tenantId, baseUrl: "http://localhost" });
      const opened = await keyless.inject({ method: "GET", url: new URL(link.url).pathname + new URL(link.url).search });
      expect(opened.statusCode).toBe(503);
      expect(opened.headers["set-cookie"]).toBeUndefined();
    } finally {
      await keyless.close();
    }
  });
});

describe("opening a link", () => {
  it("shows whose portal it opens and sets nothing; its button exchanges it for an HttpOnly, SameSite=Strict session cookie and the clean URL, the token in no log line", async () => {
    const tenant = await seedTenant(api.app);
    const link = await mint(tenant.tenantId, tenant.auth);
    const token = new URL(link.body.url).searchParams.get("token")!;
    logLines.length = 0;
    const { page: confirm, response, setCookie, cookie } = await open(link.body.url);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.headers["set-cookie"]).toBeUndefined();
    expect(confirm.body).toContain(`tenant <code>${tenant.tenantId}</code>`);
    expect(confirm.body).toContain('<form method="post" action="/portal/open">');
    expect(confirm.headers["referrer-policy"]).toBe("no-referrer");
    expect(confirm.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/portal");
    expect(setCookie).toMatch(/^outbox_portal_session=v1\.[^;]+; Path=\/portal; Max-Age=3[56]\d\d; HttpOnly; SameSite=Strict$/);
    // The request log has the URL with its token redacted, and nothing anywhere carries the token or the session.
    const logged = JSON.stringify(logLines);
    expect(logged).toContain("/portal/open?token=[redacted]");
    expect(logged).not.toContain(token.split(".")[3]);
    expect(logged).not.toContain(cookie!.split(".")[3]);

    const home = await page("/portal", cookie!);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain(tenant.tenantId);
  });

  it("refuses an expired link, a tampered one, one for another tenant, one signed with another key, a session token as a link", async () => {
    const [a, b] = [await seedTenant(api.app), await seedTenant(api.app)];
    const good = new URL((await mint(a.tenantId, a.auth)).body.url).searchParams.get("token")!;
    const [version, tenant, expiry, mac] = good.split(".") as [string, string, string, string];
    const flipped = mac.slice(0, 10) + (mac[10] === "A" ? "B" : "A") + mac.slice(11);
    const candidates = {
      expired: signPortalToken(encryptionKey, "link", a.tenantId, 1000, Date.now() - 16 * 60_000).token,
      "tampered signature": [version, tenant, expiry, flipped].join("."),
      "later expiry": [version, tenant, String(Number(expiry) + 3_600_000), mac].join("."),
      "another tenant": [version, b.tenantId, expiry, mac].join("."),
      "upper-case tenant": [version, tenant.toUpperCase(), expiry, mac].join("."),
      "another key": signPortalToken(`${encryptionKey}-other`, "link", a.tenantId, 60_000).token,
      "a session token": signPortalToken(encryptionKey, "session", a.tenantId, 60_000).token,
      "NUL byte": `${good}\u0000`,
      empty: "",
    };
    for (const [name, token] of Object.entries(candidates)) {
      const response = await api.app.inject({ method: "GET", url: `/portal/open?token=${encodeURIComponent(token)}` });
      expect([400, 401], name).toContain(response.statusCode);
      expect(response.headers["set-cookie"], name).toBeUndefined();
      const posted = await open(`http://localhost/portal/open?token=${encodeURIComponent(token)}`);
      expect([400, 401], name).toContain(posted.response.statusCode);
      expect(posted.setCookie, name).toBe("");
    }
    expect((await api.app.inject({ method: "GET", url: "/portal/open" })).statusCode).toBe(401);
  });

  it("the portal refuses an expired or forged session, a link token as a session, and API keys or the admin's password instead of a session", async () => {
    const tenant = await seedTenant(api.app);
    const cookies = {
      expired: signPortalToken(encryptionKey, "session", tenant.tenantId, 1000, Date.now() - 2 * 3_600_000).token,
      "a link token": signPortalToken(encryptionKey, "link", tenant.tenantId, 60_000).token,
      "another key": signPortalToken(`${encryptionKey}-other`, "session", tenant.tenantId, 60_000).token,
      garbage: "<script>alert(1)</script>",
    };
    for (const [name, value] of Object.entries(cookies)) {
      const response = await page("/portal", `outbox_portal_session=${value}`);
      expect(response.statusCode, name).toBe(401);
      expect(response.body).not.toContain("<script>alert");
    }
    for (const authorization of [tenant.auth, admin]) expect((await page("/portal", "", authorization)).statusCode).toBe(401);
  });
});

describe("a session acts for its own tenant only", () => {
  it("another tenant's endpoint ids answer 404 on every page and form, and nothing of it changes", async () => {
    const mine = await signedIn();
    const other = await seedTenant(api.app);
    const theirs = await endpointOf(other);
    await endpointOf(mine, "https://example.com/mine");
    const listing = await page("/portal", mine.cookie);
    expect(listing.body).toContain("https://example.com/mine");
    expect(listing.body).not.toContain(theirs.id);

    const before = await tableDigests(api.prisma);
    expect((await page(`/portal/endpoints/${theirs.id}`, mine.cookie)).statusCode).toBe(404);
    for (const action of ["disable", "enable", "rotate-secret", "test"]) {
      const response = await form(`/portal/endpoints/${theirs.id}/${action}`, mine.cookie);
      expect(response.statusCode, action).toBe(404);
      expect(response.body, action).not.toContain("whsec_");
    }
    expect((await form(`/portal/endpoints/${theirs.id}/resend`, mine.cookie, { eventId: randomUUID() })).statusCode).toBe(404);
    expect(await tableDigests(api.prisma)).toEqual(before);
  });

  it("refuses a form another site posted (Sec-Fetch-Site or Origin), even with the session cookie; the portal's own form passes", async () => {
    const tenant = await signedIn();
    const { id } = await endpointOf(tenant);
    const before = await tableDigests(api.prisma);
    const otherSites: Record<string, string>[] = [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "http://evil.example" }, { origin: "null" }];
    for (const headers of otherSites) {
      const response = await form(`/portal/endpoints/${id}/disable`, tenant.cookie, {}, headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.body).toContain("must come from the portal");
      expect((await form("/portal/endpoints", tenant.cookie, { url: "https://example.com/evil", events: "*" }, headers)).statusCode).toBe(403);
    }
    expect(await tableDigests(api.prisma)).toEqual(before);
    // Another site cannot sign a browser in to a portal of its choosing (its own tenant's, say): opening a link is a form of the portal's own page.
    const theirs = new URL((await mint(tenant.tenantId, tenant.auth)).body.url).searchParams.get("token")!;
    for (const headers of otherSites) {
      const login = await form("/portal/open", "", { token: theirs }, headers);
      expect(login.statusCode, JSON.stringify(headers)).toBe(403);
      expect(login.headers["set-cookie"]).toBeUndefined();
    }
    const own = await form(`/portal/endpoints/${id}/disable`, tenant.cookie);
    expect(own.statusCode).toBe(303);
    expect(own.headers.location).toBe(`/portal/endpoints/${id}?notice=disabled`);
    expect((await endpointRow(id)).enabled).toBe(false);
  });
});

describe("the pages and forms", () => {
  it("add an endpoint (its secret shown once), disable, enable, rotate, send a test message", async () => {
    const tenant = await signedIn();
    const added = await form("/portal/endpoints", tenant.cookie, { url: "https://example.com/portal-hooks", events: ["order.created", "payment.completed"] });
    expect(added.statusCode, added.body).toBe(201);
    const secret = /<pre class="secret" id="secret">(whsec_[^<]+)<\/pre>/.exec(added.body)?.[1];
    expect(secret).toBeDefined();
    const [row] = await api.prisma.$queryRaw<{ id: string; events: string[] }[]>`
      SELECT id::text, events FROM webhook_endpoints WHERE tenant_id = ${tenant.tenantId}::uuid`;
    expect(row!.events).toEqual(["order.created", "payment.completed"]);
    const id = row!.id;
    const detail = await page(`/portal/endpoints/${id}`, tenant.cookie);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).not.toContain(secret);
    expect(detail.body).toContain('id="health"');

    expect((await form(`/portal/endpoints/${id}/disable`, tenant.cookie, { reason: "maintenance" })).statusCode).toBe(303);
    expect(await endpointRow(id)).toMatchObject({ enabled: false, reason: "maintenance" });
    const refusedTest = await form(`/portal/endpoints/${id}/test`, tenant.cookie);
    expect(refusedTest.statusCode).toBe(409);
    expect(refusedTest.body).toContain("is disabled");
    expect((await form(`/portal/endpoints/${id}/enable`, tenant.cookie)).statusCode).toBe(303);
    expect((await endpointRow(id)).enabled).toBe(true);

    const stored = (await endpointRow(id)).secret;
    const rotated = await form(`/portal/endpoints/${id}/rotate-secret`, tenant.cookie);
    expect(rotated.statusCode).toBe(200);
    const newSecret = /<pre class="secret" id="secret">(whsec_[^<]+)<\/pre>/.exec(rotated.body)?.[1];
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);
    expect((await endpointRow(id)).secret).not.toBe(stored);

    const tested = await form(`/portal/endpoints/${id}/test`, tenant.cookie);
    expect(tested.statusCode).toBe(303);
    const deliveries = await api.prisma.$queryRaw<{ type: string; endpoint: string; tenant: string }[]>`
      SELECT payload->>'type' AS type, payload->>'endpointId' AS endpoint, tenant_id AS tenant FROM event_outbox WHERE event_type = 'WebhookDelivery' AND aggregate_id = ${id}`;
    expect(deliveries).toEqual([{ type: "webhook.test", endpoint: id, tenant: tenant.tenantId }]);
  });

  it("an invalid endpoint is refused with its reasons on the page and writes nothing; a NUL byte is refused", async () => {
    const tenant = await signedIn();
    const before = await tableDigests(api.prisma);
    const refused = await form("/portal/endpoints", tenant.cookie, { url: "http://127.0.0.1/hooks", events: "order.created" });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("The endpoint was not added");
    expect(refused.body).toContain('value="http://127.0.0.1/hooks"');
    const nul = await form("/portal/endpoints", tenant.cookie, { url: "https://example.com/\u0000", events: "*" });
    expect(nul.statusCode).toBe(400);
    expect(nul.headers["content-type"]).toContain("text/html");
    expect(await tableDigests(api.prisma)).toEqual(before);
  });

  it("escapes every value shown: an attempt's response body and error, a disabled reason, a query", async () => {
    const tenant = await signedIn();
    const { id } = await endpointOf(tenant);
    const script = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    await api.sql.execute(sql`
      INSERT INTO webhook_attempts (id, endpoint_id, event_id, webhook_id, attempt, status_code, duration_ms, error, response_body)
      VALUES (gen_random_uuid(), ${id}::uuid, ${randomUUID()}::uuid, ${randomUUID()}::uuid, 1, 500, 12, ${`HTTP 500 ${script}`}, ${script})`);
    await api.app.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/webhook-endpoints/${id}/disable`, headers: tenant.auth, payload: { reason: script } });
    for (const url of [`/portal/endpoints/${id}`, "/portal"]) {
      const response = await page(url, tenant.cookie);
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toMatch(/<script|<img/);
      expect(response.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    }
    // A URL as typed, kept or refused, is shown as text too.
    const kept = await form("/portal/endpoints", tenant.cookie, { url: `https://example.com/x?a="'><script>alert(1)</script>`, events: "*" });
    expect(kept.statusCode).toBe(201);
    const refused = await form("/portal/endpoints", tenant.cookie, { url: `javascript:alert(1)//"><script>alert(2)</script>`, events: "*" });
    expect(refused.statusCode).toBe(400);
    for (const response of [kept, refused, await page("/portal", tenant.cookie)]) expect(response.body).not.toMatch(/<script|<img/);
    expect(refused.body).toContain('value="javascript:alert(1)//&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    const injected = await page(`/portal/endpoints/${id}?before=${encodeURIComponent(`"><script>alert(1)</script>`)}`, tenant.cookie);
    expect(injected.statusCode).toBe(400);
    expect(injected.body).not.toContain("<script>");
    expect(injected.headers["content-security-policy"]).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  });

  it("pages the attempts newest first, 25 a page, through the 'Older attempts' link", async () => {
    const tenant = await signedIn();
    const { id } = await endpointOf(tenant);
    await api.sql.execute(sql`
      INSERT INTO webhook_attempts (id, endpoint_id, event_id, webhook_id, attempt, status_code, duration_ms, response_body, created_at)
      SELECT gen_random_uuid(), ${id}::uuid, gen_random_uuid(), gen_random_uuid(), 1, 200, n, 'answer ' || n, now() - n * interval '1 second'
      FROM generate_series(1, 30) AS n`);
    const first = await page(`/portal/endpoints/${id}`, tenant.cookie);
    const bodies = (html: string) => [...html.matchAll(/<code>answer (\d+)<\/code>/g)].map((match) => Number(match[1]));
    expect(bodies(first.body)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const next = /<a rel="next" href="([^"]+)">/.exec(first.body)![1]!.replaceAll("&amp;", "&");
    const second = await page(next, tenant.cookie);
    expect(bodies(second.body)).toEqual([26, 27, 28, 29, 30]);
    expect(second.body).toContain("End of the list.");
  });

  it("signing out ends the session cookie", async () => {
    const tenant = await signedIn();
    const out = await form("/portal/sign-out", tenant.cookie);
    expect(out.statusCode).toBe(200);
    expect(out.headers["set-cookie"]).toMatch(/^outbox_portal_session=; Path=\/portal; Max-Age=0; HttpOnly; SameSite=Strict$/);
  });
});
