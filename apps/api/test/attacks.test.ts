import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sql } from "outbox-relay/sql";
import { waitFor } from "@outbox/testing";
import { admin, bearer, countRows, insertDeadEvent, seedTenant, startApi, type ApiHarness } from "./helpers.ts";

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

const deadEvent = (harness: ApiHarness) => insertDeadEvent(harness.sql);

const statusOf = async (harness: ApiHarness, id: string) =>
  (await harness.sql.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]!.status;

describe("cross-site requests with the admin's credentials", () => {
  const fromElsewhere = [
    { origin: "https://evil.example" },
    { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    { "sec-fetch-site": "same-site", origin: "https://admin.example" },
    { origin: "null" },
  ];

  it("are refused on the admin JSON routes, Bull Board's and the /api routes, and change nothing", async () => {
    const harness = await api({ queues: true });
    const id = await deadEvent(harness);
    const before = await countRows(harness.prisma);
    const targets = [
      { method: "POST", url: `/admin/api/dlq/${id}/skip` },
      { method: "POST", url: `/admin/api/dlq/${id}/retry` },
      { method: "POST", url: "/admin/api/dlq/retry-all" },
      { method: "PUT", url: `/admin/queues/api/queues/events/retry/failed` },
      { method: "POST", url: "/api/tenants", payload: { name: "Forged", slug: `forged-${randomUUID().slice(0, 8)}` } },
    ] as const;
    for (const target of targets) {
      for (const site of fromElsewhere) {
        const answer = await harness.app.inject({ ...target, headers: { ...admin, ...site } });
        expect(answer.statusCode, `${target.url} ${JSON.stringify(site)}`).toBe(403);
        // Bull Board answers in its own error shape, with the same message.
        expect(answer.body).toMatch(/CROSS_SITE_REQUEST|must come from this site's own pages/);
      }
    }
    expect(await statusOf(harness, id)).toBe("dead");
    expect(await countRows(harness.prisma)).toEqual(before);
  });

  it("a text/plain body (what a cross-site form can send) is refused with 415; a form-encoded one too", async () => {
    const harness = await api({ queues: true });
    const id = await deadEvent(harness);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const answer = await harness.app.inject({ method: "POST", url: `/admin/api/dlq/${id}/skip`, headers: { ...admin, "content-type": type }, payload: '{"x":1}' });
      expect(answer.statusCode, type).toBe(415);
    }
    expect(await statusOf(harness, id)).toBe("dead");
  });

  it("the same site's pages and clients that are not browsers (curl, the CLI) keep working", async () => {
    const harness = await api({ queues: true });
    const curl = await deadEvent(harness);
    expect((await harness.app.inject({ method: "POST", url: `/admin/api/dlq/${curl}/skip`, headers: admin })).statusCode).toBe(200);
    const page = await deadEvent(harness);
    const sameSite = { ...admin, "sec-fetch-site": "same-origin", origin: "http://localhost:80" };
    expect((await harness.app.inject({ method: "POST", url: `/admin/api/dlq/${page}/skip`, headers: sameSite })).statusCode).toBe(200);
    expect([await statusOf(harness, curl), await statusOf(harness, page)]).toEqual(["skipped", "skipped"]);
  });
});

/** A socket that sends a request's headers promising `length` bytes, then only `body` (by default 10 of them). */
function slowBody(port: number, path: string, authorization: string, length = 1000, body = "{".padEnd(10, " ")): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${authorization}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n${body}`);
      resolve(socket);
    });
    socket.on("error", () => undefined);
    socket.once("error", reject);
  });
}

describe("slow clients cannot starve the others", () => {
  it("64 sockets sending their bodies slowly hold no slot; other tenants, the admin and health are answered; the sockets are cut off", async () => {
    const harness = await api({ env: { API_MAX_IN_FLIGHT: "8", API_REQUEST_TIMEOUT_MS: "2000" } });
    const slow = await seedTenant(harness.app);
    const other = await seedTenant(harness.app);
    const port = Number(new URL(await harness.app.listen({ host: "127.0.0.1", port: 0 })).port);
    const sockets = await Promise.all(Array.from({ length: 64 }, () => slowBody(port, "/api/users", slow.auth.authorization)));
    const cutOff = sockets.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let answer = "";
          socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
          socket.once("end", () => resolve(answer.split("\r\n")[0]!));
        }),
    );

    const base = `http://127.0.0.1:${port}`;
    const user = { tenantId: other.tenantId, email: `${randomUUID()}@example.com`, role: "customer" };
    const created = await fetch(`${base}/api/users`, { method: "POST", headers: { ...other.auth, "content-type": "application/json" }, body: JSON.stringify(user) });
    expect(created.status).toBe(201);
    expect((await fetch(`${base}/api/tenants/${other.tenantId}/api-keys`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // Cut off by API_REQUEST_TIMEOUT_MS (2 s), checked every second: long before a minute.
    await expect(Promise.all(cutOff)).resolves.toEqual(sockets.map(() => "HTTP/1.1 408 Request Timeout"));
    expect(await harness.prisma.user.count({ where: { tenantId: slow.tenantId } })).toBe(0);
  });

  it("one tenant holds at most API_MAX_IN_FLIGHT_PER_TENANT slots (429 past it); another tenant is still answered", async () => {
    const harness = await api({ env: { API_MAX_IN_FLIGHT: "8", API_MAX_IN_FLIGHT_PER_TENANT: "2" } });
    const busy = await seedTenant(harness.app);
    const other = await seedTenant(harness.app);
    // Hold busy's tenant row: its key creations (which lock that row) wait in flight.
    const holder = await harness.sql.connect();
    await holder.query(sql`BEGIN`);
    await holder.query(sql`SELECT id FROM tenants WHERE id = ${busy.tenantId}::uuid FOR UPDATE`);
    const create = (tenant: typeof busy) => harness.app.inject({ method: "POST", url: `/api/tenants/${tenant.tenantId}/api-keys`, headers: tenant.auth, payload: {} });
    const waiting = [create(busy), create(busy)];
    await waitFor(async () => {
      const [row] = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`);
      return row!.n >= 2 || undefined;
    }, { message: "two key creations of the busy tenant waiting on its row" });

    const third = await create(busy);
    expect(third.statusCode).toBe(429);
    expect(third.headers["retry-after"]).toBe("1");
    expect(third.json<{ code: string }>().code).toBe("TOO_MANY_IN_FLIGHT");
    expect((await create(other)).statusCode).toBe(201);

    await holder.query(sql`COMMIT`);
    holder.release();
    expect((await Promise.all(waiting)).map((answer) => answer.statusCode)).toEqual([201, 201]);
  });

  it("a client that hangs up while its request runs gives its slot back once the work is done", async () => {
    const harness = await api({ env: { API_MAX_IN_FLIGHT: "8", API_MAX_IN_FLIGHT_PER_TENANT: "2", API_KEYS_PER_TENANT_MAX: "100" } });
    const tenant = await seedTenant(harness.app);
    const port = Number(new URL(await harness.app.listen({ host: "127.0.0.1", port: 0 })).port);
    const holder = await harness.sql.connect();
    await holder.query(sql`BEGIN`);
    await holder.query(sql`SELECT id FROM tenants WHERE id = ${tenant.tenantId}::uuid FOR UPDATE`);
    const path = `/api/tenants/${tenant.tenantId}/api-keys`;
    const gone = await Promise.all([0, 1].map(() => slowBody(port, path, tenant.auth.authorization, 2, "{}")));
    await waitFor(async () => {
      const [row] = await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`);
      return row!.n >= 2 || undefined;
    }, { message: "both requests running, waiting on the tenant's row" });
    for (const socket of gone) socket.destroy();
    await holder.query(sql`COMMIT`);
    holder.release();
    const create = () => harness.app.inject({ method: "POST", url: path, headers: tenant.auth, payload: {} });
    await waitFor(async () => {
      const answers = await Promise.all([create(), create()]);
      return answers.every((answer) => answer.statusCode === 201) || undefined;
    }, { message: "two slots free again for the tenant" });
  });
});

describe("failed authentication is throttled", () => {
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
  const createTenant = (harness: ApiHarness, headers: Record<string, string>, remoteAddress: string) =>
    harness.app.inject({ method: "POST", url: "/api/tenants", headers, remoteAddress, payload: { name: "T", slug: `t-${randomUUID().slice(0, 8)}` } });

  it("per client address: wrong passwords, then 429 with Retry-After even for the right one; other addresses and valid keys go on; the window ends it", async () => {
    const harness = await api({ env: { AUTH_FAILURES_PER_ADDRESS_MAX: "5", AUTH_FAILURE_WINDOW_MS: "2000" } });
    const tenant = await seedTenant(harness.app);
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await createTenant(harness, basic("admin", `guess-${i}`), "203.0.113.7")).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const refused = await createTenant(harness, admin, "203.0.113.7");
    expect(refused.statusCode).toBe(429);
    expect(refused.json<{ code: string }>().code).toBe("TOO_MANY_FAILED_LOGINS");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);

    expect((await createTenant(harness, admin, "198.51.100.1")).statusCode).toBe(201);
    const keyFromThere = await harness.app.inject({ url: `/api/tenants/${tenant.tenantId}/api-keys`, headers: tenant.auth, remoteAddress: "203.0.113.7" });
    expect(keyFromThere.statusCode).toBe(200);
    // Not for good: once the window has passed, the right password works from there again.
    await waitFor(async () => (await createTenant(harness, admin, "203.0.113.7")).statusCode === 201 || undefined, { timeoutMs: 10_000, message: "the address to be let in again" });
  });

  it("a real admin's parallel requests are not taken for guesses; its wrong passwords still count", async () => {
    const harness = await api({ env: { AUTH_FAILURES_PER_ADDRESS_MAX: "3" } });
    const tenant = await seedTenant(harness.app);
    const list = (headers: Record<string, string>) => harness.app.inject({ url: `/api/tenants/${tenant.tenantId}/api-keys`, headers, remoteAddress: "192.0.2.7" });
    expect((await list(admin)).statusCode).toBe(200);
    const burst = await Promise.all(Array.from({ length: 12 }, () => list(admin)));
    expect(burst.map((answer) => answer.statusCode)).toEqual(burst.map(() => 200));
    const wrong = [];
    for (let i = 0; i < 4; i++) wrong.push((await list(basic("admin", `guess-${i}`))).statusCode);
    expect(wrong).toEqual([401, 401, 401, 429]);
    expect((await list(admin)).statusCode).toBe(429);
  });

  it("a forged X-Forwarded-For does not reset the count; behind a proxy named in API_TRUST_PROXY, clients are counted apart", async () => {
    const guess = (harness: ApiHarness, remoteAddress: string, forwardedFor: string) =>
      harness.app.inject({ method: "POST", url: "/api/tenants", remoteAddress, headers: { ...basic("admin", "guess"), "x-forwarded-for": forwardedFor }, payload: {} });
    const direct = await api({ env: { AUTH_FAILURES_PER_ADDRESS_MAX: "2" } });
    const forged = [];
    for (let i = 0; i < 4; i++) forged.push((await guess(direct, "203.0.113.50", `198.51.100.${i}`)).statusCode);
    expect(forged).toEqual([401, 401, 429, 429]);

    const proxied = await api({ env: { AUTH_FAILURES_PER_ADDRESS_MAX: "2", API_TRUST_PROXY: "10.0.0.0/8" } });
    const byClient = [];
    for (const client of ["198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2"]) byClient.push((await guess(proxied, "10.1.2.3", client)).statusCode);
    expect(byClient).toEqual([401, 401, 429, 401]);
  });

  it("unknown API keys count against their address too", async () => {
    const harness = await api({ env: { AUTH_FAILURES_PER_ADDRESS_MAX: "3" } });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const guess = `ok_live_${randomUUID().replace(/-/g, "")}${"A".repeat(11)}`;
      statuses.push((await harness.app.inject({ url: `/api/orders/${randomUUID()}`, headers: bearer(guess), remoteAddress: "203.0.113.9" })).statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it("per user name across addresses, except where the admin logged in before", async () => {
    const harness = await api({ env: { AUTH_FAILURES_PER_USER_MAX: "3" } });
    expect((await createTenant(harness, admin, "192.0.2.1")).statusCode).toBe(201);
    for (let i = 0; i < 3; i++) expect((await createTenant(harness, basic("admin", `guess-${i}`), `203.0.113.${20 + i}`)).statusCode).toBe(401);
    expect((await createTenant(harness, admin, "203.0.113.99")).statusCode).toBe(429);
    expect((await createTenant(harness, admin, "192.0.2.1")).statusCode).toBe(201);
  });
});

describe("a tenant cannot mint its way past its limits", () => {
  it("at most API_KEYS_PER_TENANT_MAX live keys, even when asked for at once; a revoked key frees its place", async () => {
    const harness = await api({ env: { API_KEYS_PER_TENANT_MAX: "4" } });
    const tenant = await seedTenant(harness.app);
    const url = `/api/tenants/${tenant.tenantId}/api-keys`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => harness.app.inject({ method: "POST", url, headers: tenant.auth, payload: {} })));
    expect(answers.filter((answer) => answer.statusCode === 201)).toHaveLength(3);
    const refused = answers.filter((answer) => answer.statusCode === 409);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.json<{ code: string; error: string }>()).toMatchObject({ code: "API_KEY_LIMIT", error: expect.stringContaining("API_KEYS_PER_TENANT_MAX") as unknown });
    const live = async () => (await harness.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = ${tenant.tenantId}::uuid AND revoked_at IS NULL`))[0]!.n;
    expect(await live()).toBe(4);

    const someKey = answers.find((answer) => answer.statusCode === 201)!.json<{ id: string }>().id;
    expect((await harness.app.inject({ method: "DELETE", url: `${url}/${someKey}`, headers: tenant.auth })).statusCode).toBe(200);
    expect((await harness.app.inject({ method: "POST", url, headers: tenant.auth, payload: {} })).statusCode).toBe(201);
    expect(await live()).toBe(4);
  });
});
