import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createLogger } from "outbox-relay/logger";
import { createQueues, createRedis, type QueueSet } from "outbox-relay/queues";
import { createTestRedis, waitFor, type TestRedis } from "@outbox/testing";
import { createWebhookDeliveryHandler, deletedEndpointReason } from "outbox-relay/webhooks";
import { startWorker, type RunningWorker } from "@outbox/worker";
import { seedTenant, startApi, workerConfigFor, type ApiHarness, type Auth } from "./helpers.ts";
import { orderEvents } from "@outbox/domain";

/**
 * Webhook operations for tenants, end to end: the API's routes, the real worker and queues, and a
 * real receiver on loopback (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true lets the guard pass it).
 */
const encryptionKey = "operations-test-encryption-key-32-chars-plus";
/** The delivery's retry schedule, shortened: retries after 300 ms, 600 ms, … instead of 1 min, 10 min, … */
const backoffMs = 300;
const retrySchedule = [0, backoffMs, backoffMs * 2, backoffMs * 4, backoffMs * 8];

let api: ApiHarness;
let redis: TestRedis;
let worker: RunningWorker;
let queues: QueueSet;

beforeAll(async () => {
  api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } });
  redis = createTestRedis();
  const config = workerConfigFor(api, redis, { RETRY_BACKOFF_MS: String(backoffMs) });
  const handler = createWebhookDeliveryHandler({
    encryptionKey,
    allowPrivateNetworks: true,
    timeoutMs: 5000,
    retrySchedule,
    // Receivers here fail on purpose; the breaker (its own tests are the engine's) stays out of the way.
    breaker: { failures: 1000, cooldownMs: 1000, maxCooldownMs: 1000 },
  });
  worker = await startWorker({ config, handlers: { WebhookDelivery: handler }, logger: createLogger({ level: "silent" }) });
  queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, orderEvents);
});
afterAll(async () => {
  await worker?.stop();
  await queues?.close();
  queues?.connection.disconnect();
  await redis?.clean();
  await api?.close();
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}
const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

/** A real HTTP server on 127.0.0.1 that records each request and answers with `status(n)` (n from 1), after `delayMs()`. */
async function receiver(status: (n: number) => number, delayMs = () => 0): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      const n = requests.length;
      setTimeout(() => res.writeHead(status(n), { "content-type": "text/plain" }).end(`answer ${n}`), delayMs());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const started: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  receivers.push(started);
  return started;
}

type Tenant = { tenantId: string; auth: Auth };

function call(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, auth: Auth, payload?: object) {
  return api.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
}

async function endpointFor(tenant: Tenant, url: string) {
  const response = await call("POST", `/api/tenants/${tenant.tenantId}/webhook-endpoints`, tenant.auth, { url, events: ["order.created"] });
  expect(response.statusCode).toBe(201);
  const { id, secret } = response.json<{ id: string; secret: string }>();
  return { endpointId: id, secret, path: `/api/tenants/${tenant.tenantId}/webhook-endpoints/${id}` };
}

/** A WebhookDelivery to the endpoint, as the fan-out publishes one. */
function deliver(tenant: Tenant, endpointId: string, data: Record<string, unknown> = { orderId: "o-1" }, sourceEventId: string = randomUUID()) {
  return api.prisma.$transaction((tx) =>
    orderEvents.publish(tx, {
      type: "WebhookDelivery",
      payload: { endpointId, tenantId: tenant.tenantId, type: "order.created", sourceEventId, data, occurredAt: new Date().toISOString() },
    }),
  );
}

const statusOf = async (id: string) => (await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id } })).status;
const finished = (id: string, status = "processed") => waitFor(async () => (await statusOf(id)) === status, { timeoutMs: 30_000, message: `event ${id} ${status}` });

interface AttemptJson {
  id: string;
  eventId: string;
  webhookId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  createdAt: string;
}
type Page = { attempts: AttemptJson[]; nextBefore: string | null };

describe("an endpoint's delivery attempts", () => {
  it("are listed newest first with time, status, duration and error, paged by a `before` cursor", async () => {
    const tenant = await seedTenant(api.app);
    const hooks = await receiver((n) => (n <= 2 ? 500 : 200));
    const { endpointId, path } = await endpointFor(tenant, hooks.url);
    const first = await deliver(tenant, endpointId);
    await finished(first);
    const second = await deliver(tenant, endpointId);
    await finished(second);

    const all = (await call("GET", `${path}/attempts`, tenant.auth)).json<Page>();
    expect(all.nextBefore).toBeNull();
    expect(all.attempts.map((a) => [a.eventId, a.attempt, a.statusCode])).toEqual([
      [second, 1, 200],
      [first, 3, 200],
      [first, 2, 500],
      [first, 1, 500],
    ]);
    for (const attempt of all.attempts) {
      expect(attempt.webhookId).toBe(attempt.eventId);
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(attempt.createdAt)).not.toBeNaN();
    }
    expect(all.attempts[3]!.error).toBe("the receiver answered 500");
    expect(all.attempts[3]!.responseBody).toBe("answer 1");
    expect(all.attempts[0]!.error).toBeNull();

    // Pages of 3, then the rest: the same order, nothing twice, nothing left out.
    const page1 = await call("GET", `${path}/attempts?limit=3`, tenant.auth);
    expect(page1.statusCode).toBe(200);
    const one = page1.json<Page>();
    expect(one.attempts.map((a) => a.id)).toEqual(all.attempts.slice(0, 3).map((a) => a.id));
    expect(one.nextBefore).toEqual(expect.any(String));
    // A newer attempt does not shift the next page (keyset, not offset).
    await finished(await deliver(tenant, endpointId));
    const two = (await call("GET", `${path}/attempts?limit=3&before=${encodeURIComponent(one.nextBefore!)}`, tenant.auth)).json<Page>();
    expect(two.attempts.map((a) => a.id)).toEqual(all.attempts.slice(3).map((a) => a.id));
    expect(two.nextBefore).toBeNull();
  });

  it("refuses a bad limit or cursor with 400 and field-level issues", async () => {
    const tenant = await seedTenant(api.app);
    const { path } = await endpointFor(tenant, "http://127.0.0.1:9/hooks");
    for (const [query, field] of [["limit=0", "limit"], ["limit=101", "limit"], ["limit=x", "limit"], ["before=nonsense", "before"]] as const) {
      const response = await call("GET", `${path}/attempts?${query}`, tenant.auth);
      expect(response.statusCode, query).toBe(400);
      expect(response.json()).toMatchObject({ code: "VALIDATION_FAILED", issues: [{ path: field }] });
    }
  });
});

describe("a 410 Gone from the receiver", () => {
  it("disables the endpoint at once: the delivery is dead after one attempt, and later ones send nothing", async () => {
    const tenant = await seedTenant(api.app);
    const gone = await receiver(() => 410);
    const { endpointId, path } = await endpointFor(tenant, gone.url);
    const first = await deliver(tenant, endpointId);
    await finished(first, "dead");
    const list = (await call("GET", `/api/tenants/${tenant.tenantId}/webhook-endpoints`, tenant.auth)).json<{ endpoints: { id: string; enabled: boolean; disabledReason: string }[] }>();
    expect(list.endpoints.find((e) => e.id === endpointId)).toMatchObject({ enabled: false, disabledReason: "the receiver answered 410 Gone" });
    const later = await deliver(tenant, endpointId);
    await finished(later, "dead");
    expect(gone.requests).toHaveLength(1);
    const attempts = (await call("GET", `${path}/attempts`, tenant.auth)).json<Page>().attempts;
    expect(attempts.map((a) => a.statusCode)).toEqual([410]);
  });
});

describe("resending a message", () => {
  it("sends it again as a new delivery with the same webhook-id, signed afresh, with its own attempts", async () => {
    const tenant = await seedTenant(api.app);
    const hooks = await receiver(() => 200);
    const { endpointId, secret, path } = await endpointFor(tenant, hooks.url);
    const original = await deliver(tenant, endpointId, { orderId: "o-resend" });
    await finished(original);

    const response = await call("POST", `${path}/resend`, tenant.auth, { eventId: original });
    expect(response.statusCode).toBe(202);
    const resent = response.json<{ eventId: string; webhookId: string; endpointId: string }>();
    expect(resent).toMatchObject({ webhookId: original, endpointId });
    expect(resent.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(resent.eventId).not.toBe(original);
    await finished(resent.eventId);

    expect(hooks.requests).toHaveLength(2);
    const [before, again] = hooks.requests as [Received, Received];
    expect(again.headers["webhook-id"]).toBe(original);
    expect(again.body).toBe(before.body);
    const headers = (r: Received) => ({ "webhook-id": String(r.headers["webhook-id"]), "webhook-timestamp": String(r.headers["webhook-timestamp"]), "webhook-signature": String(r.headers["webhook-signature"]) });
    expect(new Webhook(secret).verify(again.body, headers(again))).toMatchObject({ data: { orderId: "o-resend" } });

    const attempts = (await call("GET", `${path}/attempts`, tenant.auth)).json<Page>().attempts;
    expect(attempts.map((a) => [a.eventId, a.webhookId, a.attempt, a.statusCode])).toEqual([
      [resent.eventId, original, 1, 200],
      [original, original, 1, 200],
    ]);
    // Resending the resend (by its eventId) still sends the original message id.
    const third = (await call("POST", `${path}/resend`, tenant.auth, { eventId: resent.eventId })).json<{ webhookId: string; eventId: string }>();
    expect(third.webhookId).toBe(original);
    await finished(third.eventId);
    expect(hooks.requests.map((r) => r.headers["webhook-id"])).toEqual([original, original, original]);
  });

  it("answers 404 for a message never sent to this endpoint, 409 while the endpoint is disabled, 400 without an eventId", async () => {
    const tenant = await seedTenant(api.app);
    const hooks = await receiver(() => 200);
    const a = await endpointFor(tenant, hooks.url);
    const b = await endpointFor(tenant, hooks.url);
    const toA = await deliver(tenant, a.endpointId);
    await finished(toA);

    for (const eventId of [toA, randomUUID(), "not-a-uuid"]) {
      const response = await call("POST", `${b.path}/resend`, tenant.auth, { eventId });
      expect(response.statusCode, eventId).toBe(404);
      expect(response.json<{ code: string }>().code).toBe("WEBHOOK_MESSAGE_NOT_FOUND");
    }
    expect((await call("POST", `${a.path}/resend`, tenant.auth, {})).json()).toMatchObject({ code: "VALIDATION_FAILED", issues: [{ path: "eventId", message: "is required" }] });
    await call("POST", `${a.path}/disable`, tenant.auth);
    const disabled = await call("POST", `${a.path}/resend`, tenant.auth, { eventId: toA });
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json<{ code: string }>().code).toBe("WEBHOOK_ENDPOINT_DISABLED");
    expect(hooks.requests).toHaveLength(1);
  });
});

describe("deleting an endpoint", () => {
  it("removes it and skips its unsent deliveries: a retry due after the delete sends nothing", async () => {
    const tenant = await seedTenant(api.app);
    const failing = await receiver(() => 500);
    const { endpointId, path } = await endpointFor(tenant, failing.url);
    const retrying = await deliver(tenant, endpointId);
    await waitFor(() => failing.requests.length >= 1, { message: "the first attempt" });
    // Not yet queued: due in a minute.
    const waiting = await api.prisma.$transaction((tx) =>
      orderEvents.publish(tx, {
        type: "WebhookDelivery",
        payload: { endpointId, tenantId: tenant.tenantId, type: "order.created", sourceEventId: randomUUID(), data: {}, occurredAt: new Date().toISOString() },
        availableAt: new Date(Date.now() + 60_000),
      }),
    );

    const response = await call("DELETE", path, tenant.auth);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: endpointId, skippedDeliveries: 2 });
    const sentBefore = failing.requests.length;

    for (const id of [retrying, waiting]) {
      const row = await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({ status: "skipped", lastError: deletedEndpointReason });
    }
    // The retry's job runs (backoff 300 ms), finds its row skipped and completes without a request.
    await waitFor(async () => (await queues.webhooks.getJobState(retrying)) === "completed", { timeoutMs: 10_000, message: "the retry's job to run" });
    expect(failing.requests).toHaveLength(sentBefore);
    expect(await statusOf(retrying)).toBe("skipped");

    const list = (await call("GET", `/api/tenants/${tenant.tenantId}/webhook-endpoints`, tenant.auth)).json<{ endpoints: { id: string }[] }>();
    expect(list.endpoints.map((e) => e.id)).not.toContain(endpointId);
    expect((await call("GET", `${path}/attempts`, tenant.auth)).statusCode).toBe(404);
    expect((await call("DELETE", path, tenant.auth)).statusCode).toBe(404);
  });
});

describe("an endpoint's own retry schedule", () => {
  it("is set at registration or by PATCH, shown on the endpoint, and refused with the reason when out of limits", async () => {
    const tenant = await seedTenant(api.app);
    const hooks = await receiver(() => 200);
    const base = `/api/tenants/${tenant.tenantId}/webhook-endpoints`;
    const created = await call("POST", base, tenant.auth, { url: hooks.url, events: ["order.created"], retrySchedule: "0,30s,5m,1h" });
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string; retrySchedule: string }>();
    expect(created.json()).toMatchObject({ retrySchedule: "0,30s,5m,1h" });
    for (const [retrySchedule, message] of [
      ["0,2d", /longer than 24h/],
      ["0,5", /needs a unit/],
      [Array(11).fill("1s").join(","), /at most 10 waits/],
    ] as const) {
      const refused = await call("POST", base, tenant.auth, { url: hooks.url, events: ["order.created"], retrySchedule });
      expect(refused.statusCode, retrySchedule).toBe(400);
      expect(JSON.stringify(refused.json()), retrySchedule).toMatch(message);
      expect(refused.json<{ issues: { path: string }[] }>().issues.map((issue) => issue.path)).toContain("retrySchedule");
    }
    expect((await call("POST", base, tenant.auth, { url: hooks.url, events: ["order.created"], retrySchedule: "0,1m\u0000" })).statusCode).toBe(400);
    expect((await call("PATCH", `${base}/${id}`, tenant.auth, { retrySchedule: "0,90s" })).json()).toMatchObject({ retrySchedule: "0,90s" });
    expect((await call("PATCH", `${base}/${id}`, tenant.auth, { retrySchedule: "0,90" })).statusCode).toBe(400);
    expect((await call("PATCH", `${base}/${id}`, tenant.auth, { retrySchedule: null })).json()).toMatchObject({ retrySchedule: null });
    expect(await api.prisma.webhookEndpoint.count({ where: { tenantId: tenant.tenantId } })).toBe(1);
  });
});

describe("resending every failed delivery since a time, and the endpoint's health", () => {
  it("counts first on a dry run, then sends each failed message again with its webhook-id, in its source's order; health shows the attempts", async () => {
    const tenant = await seedTenant(api.app);
    let down = true;
    const hooks = await receiver(() => (down ? 500 : 200), () => Math.floor(Math.random() * 40));
    const other = await receiver(() => 200);
    const base = `/api/tenants/${tenant.tenantId}/webhook-endpoints`;
    // One attempt per delivery (its own schedule), so a failing delivery is dead at once.
    const created = (await call("POST", base, tenant.auth, { url: hooks.url, events: ["order.created"], retrySchedule: "0" })).json<{ id: string; secret: string }>();
    const path = `${base}/${created.id}`;
    const source = await deliver(tenant, (await endpointFor(tenant, other.url)).endpointId);
    await finished(source);
    const startedAt = new Date().toISOString();
    const failed: string[] = [];
    for (let seq = 1; seq <= 6; seq++) failed.push(await deliver(tenant, created.id, { orderId: "o-7", seq }, source));
    for (const id of failed) await finished(id, "dead");
    down = false;
    await finished(await deliver(tenant, created.id, { orderId: "o-8" }));
    const outboxRows = () => api.prisma.eventOutbox.count({ where: { eventType: "WebhookDelivery", tenantId: tenant.tenantId } });
    const rowsBefore = await outboxRows();

    const dry = await call("POST", `${path}/resend-all`, tenant.auth, { since: startedAt, onlyFailed: true, dryRun: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toEqual({ matched: 6, queued: 0 });
    expect((await call("POST", `${path}/resend-all`, tenant.auth, { since: startedAt, onlyFailed: false, dryRun: true })).json()).toEqual({ matched: 7, queued: 0 });
    expect((await call("POST", `${path}/resend-all`, tenant.auth, { since: new Date(Date.now() + 60_000).toISOString(), dryRun: true })).json()).toEqual({ matched: 0, queued: 0 });
    expect(await outboxRows()).toBe(rowsBefore);

    const requestsBefore = hooks.requests.length;
    const sent = await call("POST", `${path}/resend-all`, tenant.auth, { since: startedAt, onlyFailed: true });
    expect(sent.json()).toEqual({ matched: 6, queued: 6 });
    await waitFor(async () => hooks.requests.length === requestsBefore + 6, { timeoutMs: 30_000, message: "the six resends" });
    const resent = hooks.requests.slice(requestsBefore);
    expect(resent.map((request) => request.headers["webhook-id"])).toEqual(failed);
    expect(resent.map((request) => (JSON.parse(request.body) as { data: { seq: number } }).data.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const request of resent) expect(() => new Webhook(created.secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();

    // The receiver has each request before the worker records its attempt: wait for the resends to be marked.
    const resendsDone = () => api.prisma.eventOutbox.count({ where: { aggregateType: "webhook_resend", tenantId: tenant.tenantId, status: "processed" } });
    await waitFor(async () => (await resendsDone()) === 6, { timeoutMs: 30_000, message: "the six resends marked processed" });
    const health = await call("GET", path, tenant.auth);
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      id: created.id,
      retrySchedule: "0",
      consecutiveFailures: 0,
      failingSince: null,
      health: { breaker: { state: "closed", openUntil: null }, consecutiveFailures: 0, recent: { attempts: 13, succeeded: 7 } },
    });
    const { recent, lastSuccessAt, lastFailureAt } = health.json<{ health: { recent: { successRate: number; latencyP50Ms: number; latencyP99Ms: number }; lastSuccessAt: string; lastFailureAt: string } }>().health;
    expect(recent.successRate).toBeCloseTo(7 / 13);
    expect(recent.latencyP99Ms).toBeGreaterThanOrEqual(recent.latencyP50Ms);
    expect(Date.parse(lastSuccessAt)).toBeGreaterThan(Date.parse(lastFailureAt));
  });

  it("refuses a bad since with 400, a disabled endpoint with 409, and another tenant's endpoint with 404", async () => {
    const tenant = await seedTenant(api.app);
    const stranger = await seedTenant(api.app);
    const hooks = await receiver(() => 200);
    const { path } = await endpointFor(tenant, hooks.url);
    for (const body of [{}, { since: "yesterday" }, { since: "2026-12-01T00:00:00Z", dryRun: "yes" }]) {
      expect((await call("POST", `${path}/resend-all`, tenant.auth, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await call("POST", `${path}/resend-all`, stranger.auth, { since: "2026-12-01T00:00:00Z" })).statusCode).toBe(404);
    expect((await call("GET", path, stranger.auth)).statusCode).toBe(404);
    expect((await call("PATCH", path, stranger.auth, { retrySchedule: "0" })).statusCode).toBe(404);
    expect((await call("POST", `${path}/disable`, tenant.auth)).statusCode).toBe(200);
    const disabled = await call("POST", `${path}/resend-all`, tenant.auth, { since: "2026-12-01T00:00:00Z" });
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json()).toMatchObject({ code: "WEBHOOK_ENDPOINT_DISABLED" });
  });
});

describe("another tenant's key", () => {
  it("gets 404 from every new route, and changes nothing", async () => {
    const owner = await seedTenant(api.app);
    const stranger = await seedTenant(api.app);
    const hooks = await receiver(() => 200);
    const { endpointId, path } = await endpointFor(owner, hooks.url);
    const sent = await deliver(owner, endpointId);
    await finished(sent);

    // Through the owner's path (the tenant is not theirs) and through their own (the endpoint is not theirs).
    const theirPath = `/api/tenants/${stranger.tenantId}/webhook-endpoints/${endpointId}`;
    for (const target of [path, theirPath]) {
      expect((await call("GET", `${target}/attempts`, stranger.auth)).statusCode, target).toBe(404);
      expect((await call("POST", `${target}/resend`, stranger.auth, { eventId: sent })).statusCode, target).toBe(404);
      expect((await call("DELETE", target, stranger.auth)).statusCode, target).toBe(404);
    }
    expect(await api.prisma.webhookEndpoint.count({ where: { id: endpointId } })).toBe(1);
    expect(await api.prisma.eventOutbox.count({ where: { eventType: "WebhookDelivery", tenantId: owner.tenantId } })).toBe(1);
    expect(hooks.requests).toHaveLength(1);
  });
});
