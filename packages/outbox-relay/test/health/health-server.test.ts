import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics/index.ts";
import { createRedis, type RedisConnection } from "../../src/queues/index.ts";
import { Database } from "../../src/sql/index.ts";
import { createTestDatabase, startPrivateRedis, waitFor, type TestDatabase } from "@outbox/testing";
import { postgresCheck, redisCheck, startHealthServer, type RunningHealthServer } from "../../src/health/index.ts";

let db: TestDatabase;
let sql: Database;
let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
let connection: RedisConnection;
let server: RunningHealthServer;
const metrics = createMetrics({ defaultMetrics: false });
const metricsToken = "m".repeat(16) + "etrics-token-of-this-test";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new Database(db.url, { poolSize: 2 });
  redis = await startPrivateRedis();
  connection = createRedis({ url: redis.url }, "producer");
  connection.on("error", () => {}); // reconnect attempts while the test stops Redis; readiness reports them
  server = await startHealthServer({
    port: 0,
    host: "127.0.0.1",
    checks: { postgres: postgresCheck(sql), redis: redisCheck(connection) },
    registry: metrics.registry,
    checkTimeoutMs: 1000,
    metricsToken,
  });
});
afterAll(async () => {
  await server.close();
  connection.disconnect();
  await redis.stop();
  await sql.close();
  await db.drop();
});

async function get(path: string, authorization?: string): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: authorization ? { authorization } : {} });
  return { status: response.status, body: await response.text(), type: response.headers.get("content-type") };
}

describe("startHealthServer", () => {
  it("listens on an ephemeral port and answers liveness", async () => {
    expect(server.port).toBeGreaterThan(0);
    const live = await get("/healthz");
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toEqual({ status: "ok" });
  });

  it("serves the registry's Prometheus text to the metrics token", async () => {
    metrics.recordOutcome("OrderCreated", { kind: "handled", durationMs: 12, wasDead: false });
    for (const authorization of [`Bearer ${metricsToken}`, `bearer   ${metricsToken}`]) {
      const scrape = await get("/metrics", authorization);
      expect(scrape.status).toBe(200);
      expect(scrape.type).toContain("text/plain");
      expect(scrape.body).toContain('events_handled_total{type="OrderCreated"} 1');
    }
  });

  it("refuses /metrics to anyone else (no credentials, a wrong token, any password: the worker has no login throttle), and keeps liveness public", async () => {
    for (const authorization of [undefined, `Bearer ${metricsToken}x`, "Bearer ", basic("admin", metricsToken), `Basic ${metricsToken}`]) {
      const scrape = await get("/metrics", authorization);
      expect(scrape.status, String(authorization)).toBe(401);
      expect(scrape.body).not.toContain("events_handled_total");
    }
    expect((await get("/healthz")).status).toBe(200);
  });

  it("flips readiness to 503 naming Redis while Redis is stopped, and back to 200 when it returns", async () => {
    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready", checks: { postgres: "ok", redis: "ok" } });

    await redis.stop();
    // "connection lost" at first (the socket closed), then why the reconnects fail, in plain words.
    const down = await waitFor(
      async () => {
        const answer = await get("/readyz");
        return answer.status === 503 && answer.body.includes("refused") ? answer : undefined;
      },
      { message: "readiness to turn 503, naming the refused connection" },
    );
    const body = JSON.parse(down.body) as { status: string; error: string; checks: Record<string, string> };
    expect(body.status).toBe("not ready");
    expect(body.error).toBe("redis: unreachable (connection refused)");
    expect(body.checks).toEqual({ postgres: "ok", redis: "unreachable (connection refused)" });

    await redis.start();
    await waitFor(async () => (await get("/readyz")).status === 200, { message: "readiness to return to 200" });
  });
});
