import { describe, expect, it } from "vitest";
import type { OutboxStats } from "../../src/stats/index.ts";
import { createMetrics } from "../../src/metrics/index.ts";

const snapshot = (pending: number): OutboxStats => ({
  outbox: { pending, dispatched: 2, dead: 3, processed: 1000, skipped: 4 },
  estimated: ["processed"],
  lagMs: 1500,
  heldEvents: 4,
  queues: {
    events: { waiting: 5, active: 6, delayed: 7, failed: 0 },
    webhooks: { waiting: 0, active: 1, delayed: 0, failed: 2 },
    "dead-letter": { waiting: 0, active: 0, delayed: 0, failed: 3 },
  },
  dlqSize: 3,
  heldAggregates: 1,
  relayBacklog: 9,
  unknownTypes: {},
});

/** The value of one sample line in the Prometheus text, e.g. `events_handled_total{type="A"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("createMetrics", () => {
  it("counts outcomes by type and observes handler durations", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordOutcome("OrderCreated", { kind: "handled", durationMs: 20, wasDead: false });
    metrics.recordOutcome("OrderCreated", { kind: "handled", durationMs: 300, wasDead: false });
    metrics.recordOutcome("OrderCreated", { kind: "retry", error: new Error("x"), durationMs: 5 });
    metrics.recordOutcome("UserCreated", { kind: "dead", error: new Error("y"), durationMs: 2000 });
    metrics.recordOutcome("UserCreated", { kind: "skipped" });
    const text = await metrics.registry.metrics();
    expect(sample(text, 'events_handled_total{type="OrderCreated"}')).toBe(2);
    expect(sample(text, 'events_failed_total{type="OrderCreated"}')).toBe(1);
    expect(sample(text, 'events_failed_total{type="UserCreated"}')).toBe(1);
    expect(sample(text, 'events_dead_total{type="UserCreated"}')).toBe(1);
    expect(sample(text, 'events_dead_total{type="OrderCreated"}')).toBeUndefined();
    expect(sample(text, 'event_handler_duration_seconds_count{type="OrderCreated"}')).toBe(3);
    expect(sample(text, 'event_handler_duration_seconds_sum{type="OrderCreated"}')).toBeCloseTo(0.325);
    expect(sample(text, 'event_handler_duration_seconds_bucket{le="0.025",type="OrderCreated"}')).toBe(2);
    expect(sample(text, 'event_handler_duration_seconds_count{type="UserCreated"}')).toBe(1);
  });

  it("sets the outbox and queue gauges from the stats at scrape time, one stats read per scrape", async () => {
    let reads = 0;
    const metrics = createMetrics({
      defaultMetrics: false,
      statsMaxAgeMs: 0,
      stats: () => {
        reads += 1;
        return Promise.resolve(snapshot(10 * reads));
      },
    });
    const text = await metrics.registry.metrics();
    expect(reads).toBe(1);
    expect(sample(text, 'outbox_events_total{status="pending"}')).toBe(10);
    expect(sample(text, 'outbox_events_total{status="processed"}')).toBe(1000);
    expect(sample(text, "outbox_lag_seconds")).toBe(1.5);
    expect(sample(text, 'queue_jobs{queue="events",state="waiting"}')).toBe(5);
    expect(sample(text, 'queue_jobs{queue="webhooks",state="failed"}')).toBe(2);
    expect(sample(text, 'queue_jobs{queue="dead-letter",state="failed"}')).toBe(3);
    expect(sample(text, "dead_letter_events")).toBe(3);
    expect(sample(text, "held_aggregates")).toBe(1);
    expect(sample(text, "outbox_relay_backlog_events")).toBe(9);
    expect(sample(text, "held_events")).toBe(4);
    const next = await metrics.registry.metrics();
    expect(sample(next, 'outbox_events_total{status="pending"}')).toBe(20);
  });

  it("keeps answering with the last values when a stats read fails", async () => {
    let fail = false;
    const metrics = createMetrics({
      defaultMetrics: false,
      statsMaxAgeMs: 0,
      stats: () => (fail ? Promise.reject(new Error("db down")) : Promise.resolve(snapshot(7))),
    });
    await metrics.registry.metrics();
    fail = true;
    const text = await metrics.registry.metrics();
    expect(sample(text, 'outbox_events_total{status="pending"}')).toBe(7);
    expect(sample(text, "outbox_stats_errors_total")).toBe(1);
  });

  it("includes the default process metrics", async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("outbox_unknown_type_events{type}: the pending events of each type this process does not know; a type no longer waiting leaves the series", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.refreshFromStats({ ...snapshot(1), unknownTypes: { ParcelShipped: 3, ParcelLost: 1 } });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'outbox_unknown_type_events{type="ParcelShipped"}')).toBe(3);
    expect(sample(text, 'outbox_unknown_type_events{type="ParcelLost"}')).toBe(1);
    metrics.refreshFromStats({ ...snapshot(1), unknownTypes: { ParcelShipped: 2 } });
    text = await metrics.registry.metrics();
    expect(sample(text, 'outbox_unknown_type_events{type="ParcelShipped"}')).toBe(2);
    expect(text).not.toContain('type="ParcelLost"');
  });

  it("refreshFromStats sets the gauges without a stats source", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.refreshFromStats(snapshot(42));
    expect(sample(await metrics.registry.metrics(), 'outbox_events_total{status="pending"}')).toBe(42);
  });

  it("a relaying process counts the jobs its relay queued and the time of its last step; another exports neither", async () => {
    const relaying = createMetrics({ defaultMetrics: false, relay: true });
    expect(sample(await relaying.registry.metrics(), "outbox_dispatched_total")).toBe(0);
    relaying.recordDispatched(5);
    relaying.recordDispatched(2);
    const before = Date.now() / 1000;
    relaying.recordRelayStep();
    const text = await relaying.registry.metrics();
    expect(sample(text, "outbox_dispatched_total")).toBe(7);
    const lastStep = sample(text, "outbox_relay_last_step_timestamp_seconds")!;
    expect(lastStep).toBeGreaterThanOrEqual(Math.floor(before));
    expect(lastStep).toBeLessThanOrEqual(Date.now() / 1000);

    const api = createMetrics({ defaultMetrics: false });
    api.recordDispatched(3);
    api.recordRelayStep();
    const apiText = await api.registry.metrics();
    expect(apiText).not.toContain("outbox_dispatched_total");
    expect(apiText).not.toContain("outbox_relay_last_step_timestamp_seconds");
  });

  it("runs the readiness checks at each scrape for outbox_ready{check}", async () => {
    let redisUp = true;
    const metrics = createMetrics({ defaultMetrics: false, readiness: () => Promise.resolve({ postgres: true, redis: redisUp }) });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'outbox_ready{check="postgres"}')).toBe(1);
    expect(sample(text, 'outbox_ready{check="redis"}')).toBe(1);
    redisUp = false;
    text = await metrics.registry.metrics();
    expect(sample(text, 'outbox_ready{check="postgres"}')).toBe(1);
    expect(sample(text, 'outbox_ready{check="redis"}')).toBe(0);
    expect(await createMetrics({ defaultMetrics: false }).registry.metrics()).not.toContain("outbox_ready");
  });
});
