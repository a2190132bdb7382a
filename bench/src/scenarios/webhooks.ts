// Webhook delivery (issue 25), through the engine's real worker and WebhookDelivery handler to
// node:http receivers on 127.0.0.1, all in this process (receivers, worker, baseline loop):
//  1. throughput, commit → all processed, against a bare loop of the same signed POSTs with fetch
//     at the worker's webhook concurrency;
//  2. isolation: one endpoint that never answers beside 20 healthy ones of other tenants;
//  3. first attempts ahead of retries: 1,000 retries due at one moment (a Retry-After naming it) while new deliveries arrive.
// Each part has a database of its own (the engine's migrations) and a Redis prefix, both removed.
import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, Database, defineEvents, migrate, startWorker, type RunningWorker } from "outbox-relay";
import { createEndpoint, createWebhookDeliveryHandler, webhookDefaults, withWebhooks, type WebhookDeliveryOptions } from "outbox-relay/webhooks";
import { databaseUrl, deleteKeys, dropDatabase, onServer, redisUrl, uniqueName } from "@outbox/testing";
import { cpuPerEvent, sampleCpu, type CpuSample } from "../cpu.ts";
import { now, percentile } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";

const catalog = withWebhooks(defineEvents({}));
const encryptionKey = "bench-webhooks-encryption-key-of-32-chars-or-more";
/** What every delivery carries, as an order notification would. */
const data = { orderId: "o-1", orderNumber: "ORD-1", totalAmount: 1999, currency: "USD", items: [{ productId: "p-1", quantity: 2, unitPrice: 999 }] };
const webhookConcurrency = 50;

export interface WebhooksResult {
  deliveries: number;
  endpoints: number;
  webhookConcurrency: number;
  deliveriesPerSecond: number;
  bareFetchPerSecond: number;
  ratio: number;
  /** Statements the worker's pool sent per delivery (relay, processor, handler). */
  statementsPerDelivery: number;
  /** CPU µs per delivery and per bare POST: this process (worker or loop, and the receivers), Postgres, Redis. */
  cpuMicrosPerDelivery: CpuSample;
  cpuMicrosPerBarePost: CpuSample;
  isolation: { published: number; healthyP50Ms: number; healthyP99Ms: number; slowEndpointDeliveries: number };
  /** retriesDue: retries due and not sent when the new deliveries start; the rest, unsent when the last new one arrived. */
  firstAttemptsBehindRetries: { retriesDue: number; newP50Ms: number; newP99Ms: number; retriesStillWaitingWhenNewDone: number };
}

/** How a receiver answers the `nth` request of a webhook-id (1 for the first). */
type Answer = (response: http.ServerResponse, nth: number) => void;

/** A node:http receiver noting when each request arrives (by webhook-id) and how many are open at most. */
async function startReceiver(answer: Answer = (response) => response.end()) {
  const arrivals = new Map<string, number[]>();
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((request, response) => {
    const id = String(request.headers["webhook-id"]);
    const at = [...(arrivals.get(id) ?? []), now()];
    arrivals.set(id, at);
    maxOpen = Math.max(maxOpen, ++open);
    response.once("close", () => open--);
    request.resume().once("end", () => answer(response, at.length));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    maxOpen: () => maxOpen,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A database made by the engine's migrations, a Redis prefix, and a worker delivering webhooks with `options`. */
async function startPart(setup: BenchSetup, part: string, options: Partial<WebhookDeliveryOptions> = {}) {
  const name = uniqueName("outbox_bench_webhooks");
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  await migrate(databaseUrl(name));
  const db = new Database(databaseUrl(name), { poolSize: 16 });
  const prefix = `${setup.prefix}-webhooks-${part}`;
  let handled = 0;
  let worker: RunningWorker | undefined;
  const close = async () => {
    await worker?.stop();
    await db.close();
    await deleteKeys(`${prefix}*`);
    await dropDatabase(name);
  };
  try {
    worker = await startWorker({
      catalog,
      handlers: { WebhookDelivery: createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, ...options }) },
      databaseUrl: databaseUrl(name),
      redisUrl,
      queuePrefix: prefix,
      webhookConcurrency,
      shutdownTimeoutMs: 1000,
      statsIntervalMs: 600_000,
      logger: createLogger({ level: "silent" }),
      onOutcome: (_type, outcome) => void (outcome.kind === "handled" && handled++),
    });
  } catch (error) {
    await close();
    throw error;
  }
  /** An endpoint of a tenant of its own on `receiver`; its secret. */
  const endpoint = async (receiver: Receiver) => {
    const tenantId = randomUUID();
    const { endpoint, secret } = await createEndpoint(db, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: receiver.url, events: ["*"] });
    return { endpointId: endpoint.id, tenantId, secret, receiver };
  };
  const delivery = ({ endpointId, tenantId }: { endpointId: string; tenantId: string }) =>
    ({ type: "WebhookDelivery", payload: { endpointId, tenantId, type: "order.created", sourceEventId: randomUUID(), data, occurredAt: new Date().toISOString() } }) as const;
  /** Publishes one delivery in its own transaction; the webhook-id and when it committed. */
  const publishOne = async (to: { endpointId: string; tenantId: string }) => ({ id: await catalog.publish(db, delivery(to)), at: now() });
  return { db, endpoint, delivery, publishOne, handled: () => handled, statements: () => worker.db.statementCount, close };
}

async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`webhooks bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Publishes `count` deliveries spread over `targets` at `rate` a second, one transaction each; their ids and commit times. */
async function publishAtRate(publishOne: (to: { endpointId: string; tenantId: string }) => Promise<{ id: string; at: number }>, targets: { endpointId: string; tenantId: string }[], rate: number, count: number) {
  const started = now();
  const published: Promise<{ id: string; at: number }>[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, started + (i * 1000) / rate - now()));
    published.push(publishOne(targets[i % targets.length]!));
  }
  return Promise.all(published);
}

/** Publish → the first request's arrival at one of `receivers`, sorted. */
const latencies = (published: { id: string; at: number }[], receivers: Receiver[]) =>
  published.map(({ id, at }) => receivers.map((r) => r.arrivals.get(id)?.[0]).find((first) => first !== undefined)! - at).sort((a, b) => a - b);

/** The same signed POSTs the handler sends (headers, body, `v1,` HMAC-SHA256 of "id.timestamp.body"), `concurrency` at a time. */
async function bareFetchLoop(targets: { url: string; secret: string }[], count: number, concurrency: number) {
  const key = targets.map((t) => Buffer.from(t.secret.slice("whsec_".length), "base64"));
  let next = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const id = randomUUID();
        const timestamp = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({ type: "order.created", timestamp: new Date().toISOString(), data });
        const signature = `v1,${createHmac("sha256", key[i % targets.length]!).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
        const response = await fetch(targets[i % targets.length]!.url, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "user-agent": webhookDefaults.userAgent, "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
          redirect: "manual",
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`the bare loop got ${response.status}`);
      }
    }),
  );
  return count / ((now() - started) / 1000);
}

async function throughput(setup: BenchSetup, deliveries: number, endpoints: number) {
  const receivers = await Promise.all(Array.from({ length: endpoints }, () => startReceiver()));
  const part = await startPart(setup, "throughput");
  try {
    const targets = await Promise.all(receivers.map(part.endpoint));
    const bareCpu = sampleCpu([process.pid]);
    const bareFetchPerSecond = await bareFetchLoop(targets.map((t) => ({ url: t.receiver.url, secret: t.secret })), deliveries, webhookConcurrency);
    const bareCpuMicros = cpuPerEvent(bareCpu, sampleCpu([process.pid]), deliveries);
    const events = Array.from({ length: deliveries }, (_, i) => part.delivery(targets[i % endpoints]!));
    const statementsBefore = part.statements();
    await catalog.publishMany(part.db, events);
    const committed = now();
    const cpu = sampleCpu([process.pid]);
    await until(() => part.handled() >= deliveries, 600_000, "every delivery");
    const deliveriesPerSecond = deliveries / ((now() - committed) / 1000);
    return {
      deliveriesPerSecond,
      bareFetchPerSecond,
      ratio: deliveriesPerSecond / bareFetchPerSecond,
      statementsPerDelivery: (part.statements() - statementsBefore) / deliveries,
      cpuMicrosPerDelivery: cpuPerEvent(cpu, sampleCpu([process.pid]), deliveries),
      cpuMicrosPerBarePost: bareCpuMicros,
    };
  } finally {
    await part.close();
    await Promise.all(receivers.map((r) => r.close()));
  }
}

async function isolation(setup: BenchSetup, rate = 50, seconds = 20) {
  const slow = await startReceiver(() => {}); // never answers: the handler's 30 s deadline is longer than the run
  const healthy = await Promise.all(Array.from({ length: 20 }, () => startReceiver()));
  const part = await startPart(setup, "isolation", { timeoutMs: 30_000 });
  try {
    const targets = await Promise.all([slow, ...healthy].map(part.endpoint));
    const published = await publishAtRate(part.publishOne, targets, rate, rate * seconds);
    const toHealthy = published.filter((_, i) => i % targets.length !== 0);
    await until(() => toHealthy.every(({ id }) => healthy.some((r) => r.arrivals.has(id))), 30_000, "the healthy deliveries");
    const sorted = latencies(toHealthy, healthy);
    return { published: published.length, healthyP50Ms: percentile(sorted, 50), healthyP99Ms: percentile(sorted, 99), slowEndpointDeliveries: slow.maxOpen() };
  } finally {
    await slow.close();
    await part.close();
    await Promise.all(healthy.map((r) => r.close()));
  }
}

async function firstAttemptsBehindRetries(setup: BenchSetup, failing = 1000, rate = 20, seconds = 5) {
  // Every retry comes due at one moment: the first request of each webhook-id gets 503 with a
  // Retry-After naming the same time (well after every first attempt); the next gets 200 after 100 ms.
  let retryAfter = "";
  const flaky = await Promise.all(
    Array.from({ length: 10 }, () =>
      startReceiver((response, nth) => {
        if (nth > 1) return void setTimeout(() => response.end(), 100);
        response.writeHead(503, { "retry-after": retryAfter }).end();
      }),
    ),
  );
  const healthy = await startReceiver();
  const part = await startPart(setup, "retries", {
    // The second attempt's own wait is 1 s; the Retry-After (up to the longest wait, 60 s) makes it later.
    retrySchedule: [0, 1000, 60_000],
    breaker: { failures: 100_000, cooldownMs: 1000, maxCooldownMs: 1000 },
    inFlight: { perEndpoint: webhookConcurrency, perTenant: webhookConcurrency },
  });
  try {
    const targets = await Promise.all(flaky.map(part.endpoint));
    const fresh = await part.endpoint(healthy);
    const dueAt = Math.ceil((now() + 8000) / 1000) * 1000;
    retryAfter = new Date(dueAt).toUTCString();
    await catalog.publishMany(part.db, Array.from({ length: failing }, (_, i) => part.delivery(targets[i % targets.length]!)));
    const firsts = () => flaky.flatMap((r) => [...r.arrivals.values()]);
    await until(() => firsts().length >= failing, 60_000, "every first attempt");
    // The Retry-After is within the schedule's longest wait (60 s), so it holds: every retry is due at dueAt.
    await sleep(Math.max(0, dueAt + 100 - now()));
    const retriesDue = firsts().filter((at) => at.length === 1).length;
    const published = await publishAtRate(part.publishOne, [fresh], rate, rate * seconds);
    await until(() => published.every(({ id }) => healthy.arrivals.has(id)), 30_000, "the new deliveries");
    const retriesStillWaitingWhenNewDone = firsts().filter((at) => at.length === 1).length;
    await until(() => part.handled() >= failing + published.length, 60_000, "every retry");
    const sorted = latencies(published, [healthy]);
    return { retriesDue, newP50Ms: percentile(sorted, 50), newP99Ms: percentile(sorted, 99), retriesStillWaitingWhenNewDone };
  } finally {
    await part.close();
    await Promise.all([...flaky, healthy].map((r) => r.close()));
  }
}

export async function webhooks(setup: BenchSetup, { deliveries = 5000, endpoints = 20, log }: { deliveries?: number; endpoints?: number; log: (message: string) => void }): Promise<WebhooksResult> {
  const measured = await throughput(setup, deliveries, endpoints);
  log(`webhooks: ${measured.deliveriesPerSecond.toFixed(0)}/s delivered, bare fetch ${measured.bareFetchPerSecond.toFixed(0)}/s`);
  const isolated = await isolation(setup);
  log(`webhooks: isolation healthy p99 ${isolated.healthyP99Ms.toFixed(0)} ms`);
  const priority = await firstAttemptsBehindRetries(setup);
  return { deliveries, endpoints, webhookConcurrency, ...measured, isolation: isolated, firstAttemptsBehindRetries: priority };
}
