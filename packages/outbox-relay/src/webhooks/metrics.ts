import { Counter, type Registry } from "prom-client";

/** The result label of a webhook attempt: success, http_4xx, http_5xx or network_error. */
export function webhookResultOf({ success, statusCode }: { success: boolean; statusCode: number | null }): string {
  if (success) return "success";
  if (statusCode === null) return "network_error";
  return statusCode >= 500 ? "http_5xx" : "http_4xx";
}

/**
 * The delivery's counters, on the process's registry: `webhook_attempts_total{result}` and
 * `webhook_endpoints_disabled_total`. Their two methods are the delivery handler's hooks.
 */
export function webhookMetrics(registry: Registry) {
  const attempts = new Counter({ name: "webhook_attempts_total", help: "Webhook HTTP attempts, by result.", labelNames: ["result"], registers: [registry] });
  const disabled = new Counter({ name: "webhook_endpoints_disabled_total", help: "Webhook endpoints disabled after failing.", registers: [registry] });
  return {
    onAttempt: (attempt: { success: boolean; statusCode: number | null }) => attempts.inc({ result: webhookResultOf(attempt) }),
    onEndpointDisabled: () => disabled.inc(),
  };
}
