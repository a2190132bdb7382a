import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { sql, type Queryable } from "../sql/index.ts";

/** The result label of a webhook attempt: success, http_4xx, http_5xx or network_error. */
export function webhookResultOf({ success, statusCode }: { success: boolean; statusCode: number | null }): string {
  if (success) return "success";
  if (statusCode === null) return "network_error";
  return statusCode >= 500 ? "http_5xx" : "http_4xx";
}

/** Endpoints by state, and the failing ones by id (at most `failingShown`, longest failing first). */
interface EndpointStates {
  byState: { state: string; n: number }[];
  failing: { endpointId: string; tenantId: string; consecutiveFailures: number; failingSeconds: number; breakerOpen: boolean }[];
}

const failingShown = 100;

/**
 * endpointStates: every endpoint counted as enabled, breaker_open, half_open or disabled, and the
 * failing ones (a streak under way) with their streak; reads webhook_endpoints whole (one row per
 * endpoint, a few per tenant).
 */
async function endpointStates(db: Queryable): Promise<EndpointStates> {
  const byState = await db.query<{ state: string; n: number }>(sql`
    SELECT CASE WHEN NOT enabled THEN 'disabled'
                WHEN breaker_open_until > now() THEN 'breaker_open'
                WHEN breaker_open_until IS NOT NULL THEN 'half_open'
                ELSE 'enabled' END AS state,
      count(*)::int AS n
    FROM webhook_endpoints GROUP BY 1`);
  const failing = await db.query<EndpointStates["failing"][number]>(sql`
    SELECT id::text AS "endpointId", coalesce(tenant_id::text, '') AS "tenantId", consecutive_failures AS "consecutiveFailures",
      extract(epoch FROM now() - failing_since)::float8 AS "failingSeconds", coalesce(breaker_open_until > now(), false) AS "breakerOpen"
    FROM webhook_endpoints WHERE enabled AND failing_since IS NOT NULL
    ORDER BY failing_since LIMIT ${failingShown}`);
  return { byState, failing };
}

/**
 * The delivery's metrics, on the process's registry: `webhook_attempts_total{result}`,
 * `webhook_attempt_duration_seconds{result}`, `webhook_endpoints_disabled_total`; with `db`, read
 * at scrape (at most every 5 s, a slow read keeps the last values), `webhook_endpoints{state}` and,
 * for endpoints failing now, `webhook_endpoint_consecutive_failures`, `webhook_endpoint_failing_seconds`
 * and `webhook_endpoint_breaker_open` by `endpoint_id` and `tenant_id`. The returned methods are the
 * delivery handler's hooks.
 */
export function webhookMetrics(registry: Registry, { db }: { db?: Queryable } = {}) {
  const attempts = new Counter({ name: "webhook_attempts_total", help: "Webhook HTTP attempts, by result.", labelNames: ["result"], registers: [registry] });
  const durations = new Histogram({
    name: "webhook_attempt_duration_seconds",
    help: "Webhook HTTP attempts' time, connect to last body byte, by result.",
    labelNames: ["result"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const disabled = new Counter({ name: "webhook_endpoints_disabled_total", help: "Webhook endpoints disabled after failing.", registers: [registry] });
  if (db) endpointGauges(registry, db);
  return {
    onAttempt: (attempt: { success: boolean; statusCode: number | null; durationMs: number }) => {
      const result = webhookResultOf(attempt);
      attempts.inc({ result });
      durations.observe({ result }, attempt.durationMs / 1000);
    },
    onEndpointDisabled: () => disabled.inc(),
  };
}

function endpointGauges(registry: Registry, db: Queryable): void {
  let last: EndpointStates = { byState: [], failing: [] };
  let readAt = 0;
  // One read at a time: a scrape waits for it at most 0.5 s, and a slow read is not started again
  // while it runs (scrapes of a sick database do not pile queries up).
  let reading: Promise<void> | undefined;
  const refresh = async () => {
    if (Date.now() - readAt < 5000) return;
    reading ??= endpointStates(db)
      .then((states) => void ([last, readAt] = [states, Date.now()]))
      .catch(() => undefined)
      .finally(() => (reading = undefined));
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
  };
  const perEndpoint = (name: string, help: string, value: (row: EndpointStates["failing"][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["endpoint_id", "tenant_id"],
      registers: [registry],
      async collect() {
        await refresh();
        this.reset();
        for (const row of last.failing) this.set({ endpoint_id: row.endpointId, tenant_id: row.tenantId }, value(row));
      },
    });
  new Gauge({
    name: "webhook_endpoints",
    help: "Webhook endpoints by state: enabled, breaker_open, half_open (its next delivery probes), disabled.",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      await refresh();
      for (const state of ["enabled", "breaker_open", "half_open", "disabled"]) this.set({ state }, last.byState.find((row) => row.state === state)?.n ?? 0);
    },
  });
  perEndpoint("webhook_endpoint_consecutive_failures", "Failed attempts in a row of each failing endpoint (the 100 failing longest).", (row) => row.consecutiveFailures);
  perEndpoint("webhook_endpoint_failing_seconds", "How long each failing endpoint has failed every attempt.", (row) => row.failingSeconds);
  perEndpoint("webhook_endpoint_breaker_open", "1 while a failing endpoint's circuit breaker holds its deliveries.", (row) => (row.breakerOpen ? 1 : 0));
}
