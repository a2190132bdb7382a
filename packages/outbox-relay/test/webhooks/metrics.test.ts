import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { webhookMetrics, webhookResultOf } from "../../src/webhooks/metrics.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("webhook metrics", () => {
  it("counts webhook attempts by result and disabled endpoints, on the process's registry", async () => {
    const registry = new Registry();
    const hooks = webhookMetrics(registry);
    hooks.onAttempt({ success: true, statusCode: 200 });
    hooks.onAttempt({ success: false, statusCode: 503 });
    hooks.onAttempt({ success: false, statusCode: 503 });
    hooks.onAttempt({ success: false, statusCode: null });
    hooks.onEndpointDisabled();
    const text = await registry.metrics();
    expect(sample(text, 'webhook_attempts_total{result="success"}')).toBe(1);
    expect(sample(text, 'webhook_attempts_total{result="http_5xx"}')).toBe(2);
    expect(sample(text, 'webhook_attempts_total{result="network_error"}')).toBe(1);
    expect(sample(text, "webhook_endpoints_disabled_total")).toBe(1);
    expect(webhookResultOf({ success: false, statusCode: 410 })).toBe("http_4xx");
  });
});
