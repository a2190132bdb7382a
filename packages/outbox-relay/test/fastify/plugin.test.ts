import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type onRequestAsyncHookHandler } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxAdminPlugin, type OutboxAdminPluginOptions } from "../../src/fastify/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { sql } from "../../src/sql/index.ts";
import { createTestRedis, testEvents, useTestDatabase, type TestRedis } from "@outbox/testing";

// What a service declares on its routes to say who may call them; the plugin's routes get it from routeConfig.
declare module "fastify" {
  interface FastifyContextConfig {
    role?: "operator";
  }
}

const database = useTestDatabase();
const token = randomUUID();
const operator = { authorization: `Bearer ${token}` };
let redis: TestRedis;
let app: FastifyInstance;
/** The plugin's routes, as they were added. */
const routes: { method: string; url: string }[] = [];
/** The queues as the worker sees them. */
let queues: QueueSet;

/** A service's own authentication: a bearer token, for routes that ask for the operator. */
const authenticate: onRequestAsyncHookHandler = async (request, reply) => {
  if (request.routeOptions.config.role === "operator" && request.headers.authorization === operator.authorization) return;
  return reply.status(401).header("www-authenticate", "Bearer").send({ error: "the operator's token is required", code: "UNAUTHENTICATED" });
};

beforeAll(async () => {
  redis = createTestRedis();
  queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, testEvents);
  app = Fastify();
  await app.register(swagger, { openapi: { openapi: "3.1.0", info: { title: "A service", version: "1.0.0" } } });
  app.addHook("onRoute", (route) => void [route.method].flat().forEach((method) => routes.push({ method, url: route.url })));
  await app.register(outboxAdminPlugin, {
    catalog: testEvents,
    database: database.db.url,
    redis: redis.url,
    queuePrefix: redis.prefix,
    authenticate,
    routeConfig: { role: "operator" },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await queues?.close();
  queues?.connection.disconnect();
  await redis?.clean();
});

async function deadEvent(): Promise<string> {
  const accountId = randomUUID();
  const payload = { accountId, name: "Acme", slug: "acme", openedAt: new Date().toISOString() };
  const [row] = await database.sql.query<{ id: string }>(sql`
    INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error)
    VALUES ('AccountOpened', 'account', ${accountId}, ${JSON.stringify(payload)}::jsonb, 'dead', 3, 'boom')
    RETURNING id::text`);
  return row!.id;
}

describe("outbox-relay/fastify on a plain Fastify app", () => {
  it("refuses anonymous callers with 401 on every route it adds: the page, its JSON, the admin API and Bull Board", async () => {
    const walked = routes.filter((route) => route.method !== "HEAD");
    expect(walked.filter((route) => route.url.startsWith("/admin/queues")).length).toBeGreaterThan(5);
    expect(walked.filter((route) => route.url.startsWith("/admin/outbox")).length).toBeGreaterThan(5);
    expect(walked.filter((route) => route.url.startsWith("/admin/api")).length).toBe(6);
    const refused = [];
    for (const route of walked) {
      const url = route.url.replace(/:[A-Za-z]+/g, randomUUID()).replace(/\*$/, "x");
      const answer = await app.inject({ method: route.method as "GET", url });
      refused.push(`${route.method} ${route.url} ${answer.statusCode}`);
    }
    expect(refused.filter((line) => !line.endsWith(" 401"))).toEqual([]);
  });

  it("the operator lists a dead event as JSON, retries it from the page's form, and sees it pending with its job queued", async () => {
    const id = await deadEvent();
    const dead = await app.inject({ method: "GET", url: "/admin/api/dlq?type=AccountOpened", headers: operator });
    expect(dead.statusCode).toBe(200);
    expect(dead.json<{ events: { id: string }[] }>().events).toContainEqual(expect.objectContaining({ id, eventType: "AccountOpened", attempts: 3, lastError: "boom" }));

    const form = await app.inject({ method: "POST", url: `/admin/outbox/events/${id}/retry`, headers: { ...operator, "content-type": "application/x-www-form-urlencoded" }, payload: "" });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe(`/admin/outbox/events/${id}?notice=retried`);
    const page = await app.inject({ method: "GET", url: form.headers.location, headers: operator });
    expect(page.body).toContain('<dd id="event-status"><span class="status-pending">pending</span></dd>');

    const event = await app.inject({ method: "GET", url: `/admin/outbox/api/events/${id}`, headers: operator });
    expect(event.json<{ event: unknown }>().event).toMatchObject({ id, status: "pending", attempts: 0 });
    expect(await queues.events.getJob(id)).toBeDefined();
  });

  it("refuses a form another site's page posts, though the browser sent the operator's credentials; this site's pages and clients that are not browsers pass", async () => {
    const id = await deadEvent();
    const post = (headers: Record<string, string>) =>
      app.inject({ method: "POST", url: `/admin/outbox/events/${id}/retry`, headers: { ...operator, "content-type": "application/x-www-form-urlencoded", ...headers }, payload: "" });
    const forgeries: Record<string, string>[] = [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "https://evil.example" }];
    for (const forged of forgeries) {
      const answer = await post(forged);
      expect([answer.statusCode, answer.body]).toEqual([403, expect.stringContaining("must come from this site&#39;s own pages")]);
    }
    const api = await app.inject({ method: "POST", url: `/admin/api/dlq/${id}/retry`, headers: { ...operator, "sec-fetch-site": "cross-site" } });
    expect([api.statusCode, api.json()]).toEqual([403, expect.objectContaining({ code: "CROSS_SITE_REQUEST" })]);
    expect((await database.sql.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]?.status).toBe("dead");

    expect((await app.inject({ method: "GET", url: `/admin/outbox/events/${id}`, headers: { ...operator, "sec-fetch-site": "cross-site" } })).statusCode).toBe(200);
    expect((await post({ "sec-fetch-site": "same-origin", origin: "http://localhost:80" })).statusCode).toBe(303);
    expect((await database.sql.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]?.status).toBe("pending");
  });

  it("answers refusals as { error, code, issues? }", async () => {
    const unknown = randomUUID();
    const retry = await app.inject({ method: "POST", url: `/admin/api/dlq/${unknown}/retry`, headers: operator });
    expect(retry.statusCode).toBe(404);
    expect(retry.json()).toMatchObject({ code: "EVENT_NOT_FOUND" });
    const list = await app.inject({ method: "GET", url: "/admin/api/dlq?limit=0", headers: operator });
    expect(list.statusCode).toBe(400);
    expect(list.json()).toMatchObject({ code: "VALIDATION_FAILED", issues: [{ path: "limit", message: "must be at least 1" }] });
  });

  it("documents its JSON routes in the app's OpenAPI document, and neither the pages nor Bull Board", () => {
    const paths = (app.swagger() as { paths: Record<string, Record<string, { parameters?: { name: string; schema: object }[] }>> }).paths;
    expect(Object.keys(paths).sort()).toEqual([
      "/admin/api/dlq",
      "/admin/api/dlq/retry-all",
      "/admin/api/dlq/{id}/retry",
      "/admin/api/dlq/{id}/skip",
      "/admin/api/replay",
      "/admin/api/stats",
      "/admin/outbox/api/events",
      "/admin/outbox/api/events/{id}",
      "/admin/outbox/api/held",
    ]);
    const limit = paths["/admin/api/dlq"]!.get!.parameters!.find((parameter) => parameter.name === "limit");
    expect(limit?.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 });
  });

  it("needs an authenticate hook, and mounts at the root", async () => {
    const options = { catalog: testEvents, database: database.db.url, redis: redis.url } as OutboxAdminPluginOptions;
    await expect(Fastify().register(outboxAdminPlugin, options).ready()).rejects.toThrow(/`authenticate`.*is required/);
    await expect(Fastify().register(outboxAdminPlugin, { ...options, authenticate, prefix: "/ops" }).ready()).rejects.toThrow(/without a prefix/);
  });
});
