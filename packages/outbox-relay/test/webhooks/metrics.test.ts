import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { createLogger } from "../../src/logger/index.ts";
import { Database } from "../../src/sql/index.ts";
import { createEndpoint, createWebhookDeliveryHandler } from "../../src/webhooks/index.ts";
import { webhookMetrics, webhookResultOf } from "../../src/webhooks/metrics.ts";
import { createWebhookDatabase, deliveryEvent, encryptionKey } from "./fixtures.ts";
import { startReceiver } from "./receiver.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let database: TestDatabase;
let pool: Database;

beforeAll(async () => {
  database = await createWebhookDatabase();
  pool = new Database(database.url, { poolSize: 2 });
});
afterAll(async () => {
  await pool?.close();
  await database?.drop();
});

describe("webhook metrics", () => {
  it("count webhook attempts by result with their durations, and disabled endpoints, on the process's registry", async () => {
    const registry = new Registry();
    const hooks = webhookMetrics(registry);
    hooks.onAttempt({ success: true, statusCode: 200, durationMs: 20 });
    hooks.onAttempt({ success: false, statusCode: 503, durationMs: 40 });
    hooks.onAttempt({ success: false, statusCode: 503, durationMs: 40 });
    hooks.onAttempt({ success: false, statusCode: null, durationMs: 30_000 });
    hooks.onEndpointDisabled();
    const text = await registry.metrics();
    expect(sample(text, 'webhook_attempts_total{result="success"}')).toBe(1);
    expect(sample(text, 'webhook_attempts_total{result="http_5xx"}')).toBe(2);
    expect(sample(text, 'webhook_attempts_total{result="network_error"}')).toBe(1);
    expect(sample(text, 'webhook_attempt_duration_seconds_bucket{le="0.025",result="success"}')).toBe(1);
    expect(sample(text, 'webhook_attempt_duration_seconds_sum{result="http_5xx"}')).toBeCloseTo(0.08);
    expect(sample(text, "webhook_endpoints_disabled_total")).toBe(1);
    expect(webhookResultOf({ success: false, statusCode: 410 })).toBe("http_4xx");
  });

  it("show endpoints by state and each failing endpoint's streak, breaker and time failing, read from Postgres at scrape", async () => {
    const down = await startReceiver(() => ({ status: 503 }));
    const gone = await startReceiver(() => ({ status: 410 }));
    const up = await startReceiver(() => ({ status: 200 }));
    try {
      const tenantId = randomUUID();
      const at = async (url: string) => (await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url, events: ["*"] })).endpoint.id;
      const [failing, disabled, healthy] = [await at(down.url), await at(gone.url), await at(up.url)];
      const handler = createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, breaker: { failures: 2, cooldownMs: 60_000, maxCooldownMs: 60_000 } });
      const logger = createLogger({ level: "silent" });
      for (const endpointId of [failing, failing, disabled, healthy]) await handler.run({ db: pool, event: deliveryEvent(endpointId, tenantId), logger }).catch(() => undefined);

      const registry = new Registry();
      webhookMetrics(registry, { db: pool });
      const text = await registry.metrics();
      expect(sample(text, 'webhook_endpoints{state="enabled"}')).toBe(1);
      expect(sample(text, 'webhook_endpoints{state="breaker_open"}')).toBe(1);
      expect(sample(text, 'webhook_endpoints{state="disabled"}')).toBe(1);
      expect(sample(text, 'webhook_endpoints{state="half_open"}')).toBe(0);
      const labels = `{endpoint_id="${failing}",tenant_id="${tenantId}"}`;
      expect(sample(text, `webhook_endpoint_consecutive_failures${labels}`)).toBe(2);
      expect(sample(text, `webhook_endpoint_breaker_open${labels}`)).toBe(1);
      expect(sample(text, `webhook_endpoint_failing_seconds${labels}`)).toBeGreaterThanOrEqual(0);
      expect(text).not.toContain(`endpoint_id="${healthy}"`);
    } finally {
      await Promise.all([down.close(), gone.close(), up.close()]);
    }
  });
});
