import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import type { TestDatabase } from "@outbox/testing";
import { createLogger } from "../../src/logger/index.ts";
import { PermanentError } from "../../src/processor/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { DeferredError } from "../../src/processor/errors.ts";
import {
  createEndpoint,
  createWebhookDeliveryHandler,
  DeliveryFailedError,
  rotateSecret,
  type DisabledEndpoint,
  type WebhookDeliveryOptions,
} from "../../src/webhooks/index.ts";
import { endpointDisabledSchema } from "../../src/webhooks/operational-events.ts";
import { createWebhookDatabase, deliveryEvent, encryptionKey } from "./fixtures.ts";
import { startReceiver, webhookHeaders, type Receiver } from "./receiver.ts";

let database: TestDatabase;
let pool: Database;
const logger = createLogger({ level: "silent" });
const receivers: Receiver[] = [];

beforeAll(async () => {
  database = await createWebhookDatabase();
  pool = new Database(database.url, { poolSize: 4 });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
afterAll(async () => {
  await pool?.close();
  await database?.drop();
});

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(answer);
  receivers.push(started);
  return started;
}

/** An endpoint on the loopback receiver (registration allows it where private networks are allowed). */
async function endpointAt(url: string) {
  const tenantId = randomUUID();
  const { endpoint, secret } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url, events: ["*"] });
  return { tenantId, endpointId: endpoint.id, secret };
}

function handler(options: Partial<WebhookDeliveryOptions> = {}) {
  return createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, timeoutMs: 5000, ...options });
}

async function run(h: ReturnType<typeof handler>, event: ReturnType<typeof deliveryEvent>) {
  await h.run({ db: pool, event, logger });
}

interface AttemptRow {
  endpointId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

const attemptsOf = (eventId: string) =>
  pool.query<AttemptRow>(sql`
    SELECT endpoint_id::text AS "endpointId", attempt, status_code AS "statusCode", duration_ms AS "durationMs", error, response_body AS "responseBody"
    FROM webhook_attempts WHERE event_id = ${eventId}::uuid ORDER BY created_at, attempt`);
const endpointRow = async (id: string) =>
  (await pool.query<{ enabled: boolean; disabledReason: string | null; consecutiveFailures: number; breakerOpen: boolean; failingSince: Date | null; disabledAt: Date | null }>(sql`
    SELECT enabled, disabled_reason AS "disabledReason", consecutive_failures AS "consecutiveFailures",
      coalesce(breaker_open_until > now(), false) AS "breakerOpen", failing_since AS "failingSince", disabled_at AS "disabledAt"
    FROM webhook_endpoints WHERE id = ${id}::uuid`))[0]!;

describe("webhook delivery to a real receiver", () => {
  it("POSTs a signed {type, timestamp, data} body that the standardwebhooks package verifies", async () => {
    const target = await receiver(() => ({ status: 204 }));
    const { tenantId, endpointId, secret } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    await run(handler(), event);

    expect(target.requests).toHaveLength(1);
    const [request] = target.requests;
    expect(request!.method).toBe("POST");
    expect(request!.path).toBe("/hooks");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toMatch(/^outbox-webhooks\//);
    expect(request!.headers["webhook-id"]).toBe(event.id);
    expect(Math.abs(Number(request!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const verified = new Webhook(secret).verify(request!.body, webhookHeaders(request!));
    expect(verified).toEqual({ type: "order.created", timestamp: event.payload.occurredAt, data: event.payload.data });
    expect(() => new Webhook(secret).verify(request!.body.replace("1999", "2999"), webhookHeaders(request!))).toThrow();

    const [attempt] = await attemptsOf(event.id);
    expect(attempt).toMatchObject({ endpointId, attempt: 1, statusCode: 204, error: null });
    expect(attempt!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("delivers to an endpoint of no tenant, signed the same", async () => {
    const target = await receiver(() => ({ status: 200 }));
    const { endpoint, secret } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { url: target.url, events: ["*"] });
    expect(endpoint.tenantId).toBeNull();
    await run(handler(), deliveryEvent(endpoint.id, null));
    const [request] = target.requests;
    expect(() => new Webhook(secret).verify(request!.body, webhookHeaders(request!))).not.toThrow();
    await expect(run(handler(), deliveryEvent(endpoint.id, randomUUID()))).rejects.toThrow(/no longer exists/);
  });

  it("keeps the webhook-id across retries and stamps each attempt's time (an old one fails verification)", async () => {
    const target = await receiver();
    const { tenantId, endpointId, secret } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    await run(handler({ now: () => tenMinutesAgo }), event);
    await run(handler(), { ...event, attempt: 2 });
    const [old, fresh] = target.requests;
    expect(old!.headers["webhook-id"]).toBe(fresh!.headers["webhook-id"]);
    expect(() => new Webhook(secret).verify(old!.body, webhookHeaders(old!))).toThrow(/too old/);
    expect(() => new Webhook(secret).verify(fresh!.body, webhookHeaders(fresh!))).not.toThrow();
    expect((await attemptsOf(event.id)).map((row) => row.attempt)).toEqual([1, 2]);
  });

  it("signs with both secrets after a rotation, until the grace period ends", async () => {
    const target = await receiver();
    const { tenantId, endpointId, secret: oldSecret } = await endpointAt(target.url);
    const { secret: newSecret } = await rotateSecret(pool, { encryptionKey }, tenantId, endpointId);
    expect(newSecret).not.toBe(oldSecret);
    await run(handler(), deliveryEvent(endpointId, tenantId));
    const [request] = target.requests;
    expect(String(request!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(request!.body, webhookHeaders(request!))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(request!.body, webhookHeaders(request!))).not.toThrow();

    const afterGrace = new Date(Date.now() + 25 * 60 * 60_000);
    await run(handler({ now: () => afterGrace }), deliveryEvent(endpointId, tenantId));
    const late = target.requests[1]!;
    expect(String(late.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    // The receiver's clock is real, so check the signature alone with the spec's formula.
    const verifier = new Webhook(newSecret);
    expect(late.headers["webhook-signature"]).toBe(verifier.sign(String(late.headers["webhook-id"]), afterGrace, late.body));
  });

  it("records a 500 with its status and bounded body, and throws a retryable error", async () => {
    const target = await receiver(() => ({ status: 500, body: "x".repeat(10_000) }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    const error = await run(handler(), event).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).not.toBeInstanceOf(PermanentError);
    expect((error as DeliveryFailedError).statusCode).toBe(500);
    expect((error as DeliveryFailedError).retryDelayMs).toBe(60_000); // the default schedule's wait before attempt 2
    const [attempt] = await attemptsOf(event.id);
    expect(attempt).toMatchObject({ statusCode: 500, error: "the receiver answered 500" });
    expect(attempt!.responseBody!.length).toBeLessThanOrEqual(4096);
    expect(attempt!.responseBody!.length).toBeGreaterThan(0);
    expect(await endpointRow(endpointId)).toMatchObject({ consecutiveFailures: 1, breakerOpen: false, enabled: true });
    expect((await endpointRow(endpointId)).failingSince).toBeInstanceOf(Date);
  });

  it("treats 410 Gone as permanent and disables the endpoint at once", async () => {
    const target = await receiver(() => ({ status: 410, body: "gone" }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const disabled: DisabledEndpoint[] = [];
    const event = deliveryEvent(endpointId, tenantId);
    await expect(run(handler({ onEndpointDisabled: (e) => disabled.push(e) }), event)).rejects.toBeInstanceOf(PermanentError);
    expect(await endpointRow(endpointId)).toMatchObject({ enabled: false, disabledReason: "the receiver answered 410 Gone" });
    expect(disabled).toEqual([
      { endpointId, tenantId, url: target.url, reason: "the receiver answered 410 Gone", consecutiveFailures: 1, disabledAt: expect.any(Date) as unknown, failingSince: null },
    ]);
    expect(await attemptsOf(event.id)).toHaveLength(1);
    // A later delivery to the disabled endpoint sends nothing.
    await expect(run(handler(), deliveryEvent(endpointId, tenantId))).rejects.toThrow(/is disabled/);
    expect(target.requests).toHaveLength(1);
  });

  it("does not follow a redirect: a 3xx is a failed attempt", async () => {
    const elsewhere = await receiver();
    const target = await receiver(() => ({ status: 302, headers: { location: elsewhere.url } }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    await expect(run(handler(), event)).rejects.toThrow(/302 \(a redirect, not followed/);
    expect(elsewhere.requests).toHaveLength(0);
    expect((await attemptsOf(event.id))[0]).toMatchObject({ statusCode: 302 });
  });

  it("times out a receiver that does not answer within the timeout", async () => {
    const { createServer } = await import("node:http");
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as import("node:net").AddressInfo;
      const { tenantId, endpointId } = await endpointAt(`http://127.0.0.1:${port}/slow`);
      const event = deliveryEvent(endpointId, tenantId);
      await expect(run(handler({ timeoutMs: 200 }), event)).rejects.toThrow(/timed out after 200 ms/);
      expect((await attemptsOf(event.id))[0]).toMatchObject({ statusCode: null, error: "timed out after 200 ms" });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("fails the last attempt of the schedule for good; an attempt past it (an admin's retry of the dead delivery) is one last attempt", async () => {
    const target = await receiver(() => ({ status: 500 }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const h = handler({ retrySchedule: [0, 1000] });
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toMatchObject({ retryDelayMs: 1000 });
    await expect(run(h, deliveryEvent(endpointId, tenantId, { attempt: 2 }))).rejects.toThrow(/failed on its last attempt \(2 of 2\): the receiver answered 500/);
    await expect(run(h, deliveryEvent(endpointId, tenantId, { attempt: 3 }))).rejects.toThrow(/failed on its last attempt \(3 of 2\)/);
    expect(target.requests).toHaveLength(3);
  });

  it("opens the breaker after N failed attempts in a row: deliveries wait without spending an attempt; after the cooldown one probe goes, and its success closes it", async () => {
    let up = false;
    // Once up, it answers after 300 ms: the probe is still under way when the other delivery looks.
    const target = await receiver(() => (up ? { status: 200, delayMs: 300 } : { status: 503 }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const h = handler({ breaker: { failures: 3, cooldownMs: 1500, maxCooldownMs: 60_000 } });
    for (let n = 0; n < 3; n++) await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    expect(await endpointRow(endpointId)).toMatchObject({ consecutiveFailures: 3, breakerOpen: true, enabled: true });
    const waiting = deliveryEvent(endpointId, tenantId);
    const deferred = await run(h, waiting).catch((caught: unknown) => caught);
    expect(deferred).toBeInstanceOf(DeferredError);
    expect((deferred as DeferredError).delayMs).toBeGreaterThan(1000);
    expect(target.requests).toHaveLength(3);
    expect(await attemptsOf(waiting.id)).toHaveLength(0);

    up = true;
    await new Promise((resolve) => setTimeout(resolve, (deferred as DeferredError).delayMs + 100));
    // Two deliveries at once after the cooldown: one is the probe, the other waits for it.
    const results = await Promise.allSettled([run(h, waiting), run(h, deliveryEvent(endpointId, tenantId))]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(DeferredError);
    expect(target.requests).toHaveLength(4);
    expect(await endpointRow(endpointId)).toMatchObject({ consecutiveFailures: 0, breakerOpen: false, failingSince: null });
    await run(h, deliveryEvent(endpointId, tenantId));
    expect(target.requests).toHaveLength(5);
  });

  it("a failed probe opens the breaker again, for twice as long", async () => {
    const target = await receiver(() => ({ status: 500 }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const h = handler({ breaker: { failures: 1, cooldownMs: 300, maxCooldownMs: 60_000 } });
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    const first = (await run(h, deliveryEvent(endpointId, tenantId)).catch((caught: unknown) => caught)) as DeferredError;
    await new Promise((resolve) => setTimeout(resolve, first.delayMs + 50));
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError); // the probe
    const second = (await run(h, deliveryEvent(endpointId, tenantId)).catch((caught: unknown) => caught)) as DeferredError;
    expect(second).toBeInstanceOf(DeferredError);
    expect(second.delayMs).toBeGreaterThan(450);
    expect(target.requests).toHaveLength(2);
  });

  it("disables an endpoint whose attempts have all failed for the set time, once, and tells the tenant's endpoints subscribed to endpoint.disabled", async () => {
    const target = await receiver(() => ({ status: 503 }));
    const watcher = await receiver(() => ({ status: 204 }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const { endpoint: watching } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: watcher.url, events: ["endpoint.disabled"] });
    const disabled: DisabledEndpoint[] = [];
    const h = handler({ disableAfterMs: 800, breaker: { failures: 100, cooldownMs: 1000, maxCooldownMs: 1000 }, onEndpointDisabled: (e) => disabled.push(e) });
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    const { failingSince } = await endpointRow(endpointId);
    // Failing all along: no gap between failures as long as the 800 ms, and the streak older than it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    expect((await endpointRow(endpointId)).enabled).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const last = deliveryEvent(endpointId, tenantId);
    await expect(run(h, last)).rejects.toThrow(/failed for good/);
    const row = await endpointRow(endpointId);
    expect(row).toMatchObject({ enabled: false, disabledReason: `every attempt has failed since ${failingSince!.toISOString().replace(/\.\d+Z$/, "Z")}` });
    expect(disabled).toHaveLength(1);
    expect(disabled[0]).toMatchObject({ endpointId, tenantId, reason: row.disabledReason, failingSince });

    const [notice] = await pool.query<{ payload: { endpointId: string; type: string; data: Record<string, unknown> }; causationId: string }>(sql`
      SELECT payload, causation_id::text AS "causationId" FROM event_outbox WHERE event_type = 'WebhookDelivery' AND payload->>'endpointId' = ${watching.id}`);
    expect(notice).toMatchObject({ causationId: last.id, payload: { type: "endpoint.disabled", data: { endpointId, url: target.url, reason: row.disabledReason, failingSince: failingSince!.toISOString() } } });
    expect(endpointDisabledSchema.safeParse(notice!.payload.data).success).toBe(true);
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toThrow(/is disabled/);
    expect(target.requests).toHaveLength(3);
  });

  it("a low-traffic endpoint whose failures are further apart than the set time starts a new streak instead of being disabled", async () => {
    const target = await receiver(() => ({ status: 503 }));
    const { tenantId, endpointId } = await endpointAt(target.url);
    const h = handler({ disableAfterMs: 400, breaker: { failures: 100, cooldownMs: 1000, maxCooldownMs: 1000 } });
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    const first = (await endpointRow(endpointId)).failingSince!;
    await new Promise((resolve) => setTimeout(resolve, 600));
    await expect(run(h, deliveryEvent(endpointId, tenantId))).rejects.toBeInstanceOf(DeliveryFailedError);
    const row = await endpointRow(endpointId);
    expect(row).toMatchObject({ enabled: true, consecutiveFailures: 2 });
    expect(row.failingSince!.getTime()).toBeGreaterThan(first.getTime() + 500);
  });

  it("refuses a secret it cannot decrypt, permanently, sending nothing", async () => {
    const target = await receiver();
    const { tenantId, endpointId } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    await expect(run(handler({ encryptionKey: "a different key of at least 32 characters" }), event)).rejects.toThrow(PermanentError);
    await expect(run(handler({ encryptionKey: "a different key of at least 32 characters" }), event)).rejects.toThrow(/cannot be decrypted/);
    expect(target.requests).toHaveLength(0);
    expect((await attemptsOf(event.id))[0]).toMatchObject({ statusCode: null });
  });

  it("never writes a secret or a signature to the log", async () => {
    const lines: string[] = [];
    const verbose = createLogger({ level: "trace", destination: { write: (line: string) => void lines.push(line) } });
    const target = await receiver((n) => ({ status: n === 1 ? 500 : 200 }));
    const { tenantId, endpointId, secret } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    await expect(handler().run({ db: pool, event, logger: verbose })).rejects.toThrow();
    await handler().run({ db: pool, event: { ...event, attempt: 2 }, logger: verbose });
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join("\n");
    expect(log).not.toContain(secret.slice("whsec_".length));
    for (const request of target.requests) expect(log).not.toContain(String(request.headers["webhook-signature"]).slice(3));
  });

  it("refuses a deleted endpoint permanently", async () => {
    const target = await receiver();
    const { tenantId, endpointId } = await endpointAt(target.url);
    await pool.execute(sql`DELETE FROM webhook_endpoints WHERE id = ${endpointId}::uuid`);
    await expect(run(handler(), deliveryEvent(endpointId, tenantId))).rejects.toThrow(/no longer exists/);
  });
});

describe("the SSRF guard at delivery time (allowPrivateNetworks: false)", () => {
  const guarded = () => handler({ allowPrivateNetworks: false });

  it("refuses an endpoint on 127.0.0.1 with a clear error, and the receiver gets no request", async () => {
    const target = await receiver();
    const { tenantId, endpointId } = await endpointAt(target.url);
    const event = deliveryEvent(endpointId, tenantId);
    const error = await run(guarded(), event).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/refused to connect to 127\.0\.0\.1: loopback addresses are not allowed/);
    expect(target.requests).toHaveLength(0);
    expect((await attemptsOf(event.id))[0]).toMatchObject({ statusCode: null });
    expect((await attemptsOf(event.id))[0]!.error).toMatch(/allowPrivateNetworks/);
  });

  it("refuses a hostname that resolves to loopback (localhost), checking the resolved address", async () => {
    const target = await receiver();
    const { tenantId, endpointId } = await endpointAt(`http://localhost:${target.port}/hooks`);
    await expect(run(guarded(), deliveryEvent(endpointId, tenantId))).rejects.toThrow(/refused to connect to localhost: the host resolves to a non-public address/);
    expect(target.requests).toHaveLength(0);
  });

  it("tells the tenant a host name resolves to a non-public address, never which one; the operator's log has it", async () => {
    const lines: string[] = [];
    const operatorLog = createLogger({ level: "info", destination: { write: (line: string) => void lines.push(line) } });
    const target = await receiver();
    const { tenantId, endpointId } = await endpointAt(`http://localhost:${target.port}/hooks`);
    const event = deliveryEvent(endpointId, tenantId);
    const thrown = await guarded()
      .run({ db: pool, event, logger: operatorLog })
      .catch((caught: unknown) => caught as Error);
    const [attempt] = await attemptsOf(event.id);
    // What the tenant reads: the attempt row (GET …/attempts) and the event's last error (the thrown message).
    for (const shown of [attempt!.error!, (thrown as Error).message]) {
      expect(shown).toMatch(/localhost: the host resolves to a non-public address.*allowPrivateNetworks/);
      expect(shown).not.toMatch(/127\.0\.0\.1|::1|loopback/);
    }
    expect(lines.join("\n")).toMatch(/"refusedAddress":"(127\.0\.0\.1|::1)","refusedRange":"loopback"/);
  });

  it.each([
    ["http://169.254.169.254/latest/meta-data/", /cloud metadata/],
    ["http://10.0.0.7/", /private/],
    ["http://192.168.1.10:8080/", /private/],
    ["http://[::1]:9/", /loopback/],
    ["http://[fd00:ec2::254]/", /cloud metadata/],
    ["http://[::ffff:127.0.0.1]/", /IPv4-embedded loopback/],
    ["http://100.64.1.1/", /carrier-grade NAT/],
  ])("refuses the literal address in %s before connecting", async (url, reason) => {
    const { tenantId, endpointId } = await endpointAt(url);
    await expect(run(guarded(), deliveryEvent(endpointId, tenantId))).rejects.toThrow(reason);
  });
});
