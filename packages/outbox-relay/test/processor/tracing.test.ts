import { randomBytes, randomUUID } from "node:crypto";
import { context, propagation, SpanKind, SpanStatusCode, trace, type SpanContext } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvents } from "../../src/events/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { sql } from "../../src/sql/index.ts";
import { useTestDatabase } from "@outbox/testing";
import { batch, runBatch, type EventJob, type HandlerMap } from "../../src/processor/index.ts";

const catalog = defineEvents({
  TenantCreated: { schema: z.object({ tenantId: z.string(), name: z.string() }).loose(), aggregate: (p) => ({ type: "tenant", id: p.tenantId }), priority: 1 },
});

const database = useTestDatabase();
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => provider.register());
beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** A producer's span, as another process would have stored it with the row. */
function producerSpan() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Pending TenantCreated rows, and their jobs carrying each one's producer traceparent. */
async function tracedJobs(names: string[]) {
  const jobs: (EventJob & { name: string; producer: ReturnType<typeof producerSpan> })[] = [];
  for (const name of names) {
    const id = randomUUID();
    const producer = producerSpan();
    const payload = { tenantId: id, name, slug: `s-${id.slice(0, 8)}`, createdAt: new Date().toISOString() };
    await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, traceparent)
      VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb, ${producer.traceparent})`);
    const data = { type: "TenantCreated", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: payload.createdAt, previousAttempts: 0, traceparent: producer.traceparent };
    jobs.push({ id, attemptsMade: 0, maxAttempts: 3, data, name, producer });
  }
  return jobs;
}

const run = (handlers: HandlerMap<typeof catalog>, jobs: EventJob[]) => runBatch({ db: database.sql, catalog, handlers, logger: createLogger({ level: "silent" }) }, jobs);
const processSpans = () => exporter.getFinishedSpans().filter((span) => span.name === "process TenantCreated");

describe("handler spans", () => {
  it("runs a batch handler's call of many events in one span linked to each producer, and its follow-ups continue that span", async () => {
    const jobs = await tracedJobs(["a", "b", "c"]);
    const active: (SpanContext | undefined)[] = [];
    const followUp = randomUUID();
    const handlers: HandlerMap<typeof catalog> = {
      TenantCreated: batch(async ({ events, publish }) => {
        active.push(trace.getActiveSpan()?.spanContext());
        if (events.length > 1) {
          await publish([{ type: "TenantCreated", id: followUp, payload: { tenantId: followUp, name: "next", slug: `n-${followUp.slice(0, 8)}`, createdAt: new Date().toISOString() } }]);
        }
      }),
    };
    expect((await run(handlers, jobs)).map((outcome) => outcome.kind)).toEqual(["handled", "handled", "handled"]);

    const [span, ...others] = processSpans();
    expect(others).toEqual([]);
    expect(span!.kind).toBe(SpanKind.CONSUMER);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.attributes["messaging.batch.message_count"]).toBe(3);
    expect(span!.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual(jobs.map((job) => [job.producer.traceId, job.producer.spanId]));
    expect(span!.links.map((link) => link.attributes?.["messaging.message.id"])).toEqual(jobs.map((job) => job.id));
    const { traceId, spanId } = span!.spanContext();
    expect(active).toEqual([expect.objectContaining({ traceId, spanId })]);

    const [row] = await database.sql.query<{ traceparent: string }>(sql`SELECT traceparent FROM event_outbox WHERE id = ${followUp}::uuid`);
    expect(row!.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it("runs each event of a single-event handler in a child of its producer's span, and records a failure on it", async () => {
    const jobs = await tracedJobs(["fine", "bad"]);
    const handlers: HandlerMap<typeof catalog> = {
      TenantCreated: async ({ event }) => {
        if (event.payload.name === "bad") throw new Error("the bad one fails");
      },
    };
    expect((await run(handlers, jobs)).map((outcome) => outcome.kind)).toEqual(["handled", "retry"]);

    const spans = processSpans();
    for (const job of jobs) {
      const own = spans.filter((span) => span.attributes["messaging.message.id"] === job.id);
      expect(own.length).toBeGreaterThan(0);
      for (const span of own) {
        expect(span.spanContext().traceId).toBe(job.producer.traceId);
        expect(span.parentSpanContext?.spanId).toBe(job.producer.spanId);
        expect(span.attributes).toMatchObject({ "outbox.event.type": "TenantCreated", "outbox.aggregate.id": job.id, "outbox.event.attempt": 1 });
      }
      const failed = job.name === "bad";
      expect(own.every((span) => span.status.code === (failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET))).toBe(true);
      if (failed) expect(own.every((span) => span.events.some((e) => e.name === "exception" && e.attributes?.["exception.message"] === "the bad one fails"))).toBe(true);
    }
  });
});
