import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { parseTraceparent } from "outbox-relay/events";
import { sql } from "outbox-relay/sql";
import { createTestRedis, waitFor, type TestRedis } from "@outbox/testing";
import { orderHandlers, startWorker, type RunningWorker } from "@outbox/worker";
import { orderBody, post, seedShop, startApi, workerConfigFor, type ApiHarness } from "./helpers.ts";

// An SDK as an application would register one; the spans end up in memory.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const webhookEnv = { ENCRYPTION_KEY: "tracing-test-encryption-key-32-chars-plus", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" };

let api: ApiHarness;
let redis: TestRedis;
let worker: RunningWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

/** A webhook receiver on loopback that records the headers of every request. */
async function startReceiver() {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      received.push(request.headers);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}/hooks`, received, close };
}

beforeAll(async () => {
  provider.register();
  receiver = await startReceiver();
  api = await startApi({ env: webhookEnv });
  redis = createTestRedis();
  const config = workerConfigFor(api, redis, webhookEnv);
  worker = await startWorker({ config, handlers: orderHandlers(config), logger: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await worker?.stop();
  await redis?.clean();
  await api?.close();
  await receiver?.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** The finished span that matches, once it has ended. */
function span(description: string, matches: (span: ReadableSpan) => boolean): Promise<ReadableSpan> {
  return waitFor(() => exporter.getFinishedSpans().find(matches), { message: description });
}

const parentOf = (child: ReadableSpan) => child.parentSpanContext?.spanId;

async function traceparentOfRow(eventId: string): Promise<string | null> {
  const [row] = await api.sql.query<{ traceparent: string | null }>(sql`SELECT traceparent FROM event_outbox WHERE id = ${eventId}::uuid`);
  return row!.traceparent;
}

describe("traces across the outbox", () => {
  it("one trace runs from the order request through its handlers to the webhook request", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const endpoint = await post(api.app, `/api/tenants/${tenantId}/webhook-endpoints`, { url: receiver.url, events: ["order.created"] }, auth);
    expect(endpoint.status).toBe(201);

    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId, 1), auth);
    expect(created.status).toBe(201);
    const eventId = created.body.eventId;

    const request = await span("the request's span", (s) => s.kind === SpanKind.SERVER && s.name === "POST /api/orders");
    const { traceId, spanId } = request.spanContext();
    expect(request.parentSpanContext).toBeUndefined();
    expect(request.attributes).toMatchObject({ "http.route": "/api/orders", "http.response.status_code": 201 });
    // The route published OrderCreated with the request's span active.
    expect(await traceparentOfRow(eventId)).toBe(`00-${traceId}-${spanId}-01`);

    const headers = await waitFor(() => receiver.received.find((h) => h["webhook-id"] !== undefined), { message: "the webhook request" });
    expect(headers["webhook-signature"]).toMatch(/^v1,/);
    const sent = parseTraceparent(String(headers.traceparent));
    expect(sent?.traceId).toBe(traceId);

    const handler = await span("OrderCreated's handler span", (s) => s.name === "process OrderCreated" && s.attributes["messaging.message.id"] === eventId);
    expect(handler.kind).toBe(SpanKind.CONSUMER);
    expect(handler.spanContext().traceId).toBe(traceId);
    expect(parentOf(handler)).toBe(spanId);
    expect(handler.attributes).toMatchObject({ "outbox.event.type": "OrderCreated", "outbox.aggregate.type": "order", "outbox.event.attempt": 1 });

    // The handler's webhook fan-out published the delivery under its span; the delivery's span continues it.
    const delivery = await span("the delivery's span", (s) => s.name === "process WebhookDelivery" && s.spanContext().traceId === traceId);
    expect(parentOf(delivery)).toBe(handler.spanContext().spanId);
    const client = await span("the POST's span", (s) => s.kind === SpanKind.CLIENT && s.spanContext().traceId === traceId);
    expect(parentOf(client)).toBe(delivery.spanContext().spanId);
    expect(client.attributes).toMatchObject({ "http.request.method": "POST", "server.address": "127.0.0.1", "http.response.status_code": 200 });
    // The receiver got the POST's own span as its parent.
    expect(sent?.spanId).toBe(client.spanContext().spanId);
  });

  it("continues the trace of an incoming traceparent header", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId, 1), { ...auth, traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
    expect(created.status).toBe(201);

    const request = await span("the request's span", (s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === caller.traceId);
    expect(parentOf(request)).toBe(caller.spanId);
    expect(await traceparentOfRow(created.body.eventId)).toBe(`00-${caller.traceId}-${request.spanContext().spanId}-01`);
  });
});
