import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@outbox/testing";
import type { RunningWorker } from "../src/index.ts";
import { publishAll, setupPipeline, startTestWorker, tenantEvent, waitForStatus, type PipelineEnv } from "./helpers.ts";

let pipeline: PipelineEnv;
let worker: RunningWorker;
const metricsToken = `metrics-token-${randomUUID()}`;

beforeAll(async () => {
  pipeline = await setupPipeline();
  worker = await startTestWorker(pipeline, { METRICS_TOKEN: metricsToken });
});
afterAll(async () => {
  await worker?.stop();
  await pipeline?.cleanup();
});

/** The worker's /metrics, as Prometheus scrapes it, read as series → value. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
  const samples = text.split("\n").filter((line) => line && !line.startsWith("#"));
  return new Map(samples.map((line) => [line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1))]));
}

describe("the worker's /metrics", () => {
  it("counts the jobs its relay queued and shows the relay's backlog drained", async () => {
    const ids = await publishAll(pipeline.prisma, Array.from({ length: 25 }, () => tenantEvent()));
    await waitForStatus(pipeline.prisma, ids, "processed");
    const metrics = await scrape();
    expect(metrics.get("outbox_dispatched_total")).toBe(25);
    expect(metrics.get('events_handled_total{type="TenantCreated"}')).toBe(25);
    expect(metrics.get("outbox_relay_backlog_events")).toBe(0);
  });

  it("moves the relay's heartbeat on every tick, with no event to relay", async () => {
    const first = (await scrape()).get("outbox_relay_last_step_timestamp_seconds")!;
    expect(first).toBeGreaterThan(Date.now() / 1000 - 60);
    await waitFor(async () => (await scrape()).get("outbox_relay_last_step_timestamp_seconds")! > first, {
      message: "a later relay step (SCAN_CRON ticks every second here)",
    });
  });

  it("reports Postgres and Redis as ready", async () => {
    const metrics = await scrape();
    expect(metrics.get('outbox_ready{check="postgres"}')).toBe(1);
    expect(metrics.get('outbox_ready{check="redis"}')).toBe(1);
  });
});
