import { afterEach, describe, expect, it } from "vitest";
import { createTestRedis } from "@outbox/testing";
import { admin, anotherApp, bearer, seedTenant, startApi, type ApiHarness } from "./helpers.ts";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function api(env: Record<string, string>): Promise<ApiHarness> {
  const harness = await startApi({ env });
  cleanups.push(() => harness.close());
  return harness;
}

const limited = { API_RATE_LIMIT_MAX: "3", API_RATE_LIMIT_WINDOW_MS: "60000" };

describe("the per-tenant rate limit", () => {
  it("answers 429 with Retry-After past API_RATE_LIMIT_MAX requests of a tenant's keys together; another tenant and the admin go on", async () => {
    const harness = await api(limited);
    const tenant = await seedTenant(harness.app);
    const url = `/api/tenants/${tenant.tenantId}/api-keys`;
    const second = (await harness.app.inject({ method: "POST", url, headers: tenant.auth, payload: {} })).json<{ apiKey: string }>();
    const get = (headers: Record<string, string>) => harness.app.inject({ method: "GET", url, headers });

    // The first key made one request (the POST above): two more pass, the fourth is refused.
    expect((await get(tenant.auth)).statusCode).toBe(200);
    const last = await get(tenant.auth);
    expect(last.statusCode).toBe(200);
    expect(last.headers["x-ratelimit-remaining"]).toBe("0");
    const refused = await get(tenant.auth);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(refused.json()).toMatchObject({ code: "RATE_LIMITED", error: expect.stringMatching(/more than 3 requests in 60 s/) as unknown });

    // A key minted by the same tenant shares its count: minting keys buys no requests.
    expect((await get(bearer(second.apiKey))).statusCode).toBe(429);
    const other = await seedTenant(harness.app);
    expect((await harness.app.inject({ url: `/api/tenants/${other.tenantId}/api-keys`, headers: other.auth })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(admin)).statusCode).toBe(200);
    // Health is never limited.
    expect((await harness.app.inject({ url: "/healthz" })).statusCode).toBe(200);
  });

  it("with API_RATE_LIMIT_STORE=redis, API processes share each tenant's count", async () => {
    const redis = createTestRedis();
    cleanups.push(() => redis.clean());
    const env = { ...limited, API_RATE_LIMIT_STORE: "redis", QUEUE_PREFIX: redis.prefix };
    const harness = await api(env);
    const other = await anotherApp(harness, env);
    cleanups.push(() => other.close());
    const tenant = await seedTenant(harness.app);
    const url = `/api/tenants/${tenant.tenantId}/api-keys`;
    const statuses = [];
    for (const app of [harness.app, other, harness.app, other]) statuses.push((await app.inject({ method: "GET", url, headers: tenant.auth })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
