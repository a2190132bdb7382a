import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, get, startApi, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;
let noRedis: ApiHarness;
beforeAll(async () => {
  api = await startApi();
  // Nothing listens on port 1: the readiness check must name Redis.
  noRedis = await startApi({ redisUrl: "redis://127.0.0.1:1" });
});
afterAll(async () => {
  await api.close();
  await noRedis.close();
});

describe("health", () => {
  it("GET /healthz answers while the process runs", async () => {
    expect(await get(api.app, "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("GET /readyz answers 200 when Postgres and Redis answer", async () => {
    expect(await get(api.app, "/readyz")).toMatchObject({ status: 200, body: { status: "ready", checks: { postgres: "ok", redis: "ok" } } });
  });

  it("GET /readyz answers 503 naming Redis when Redis is down", async () => {
    const answer = await get(noRedis.app, "/readyz");
    expect(answer.status).toBe(503);
    // In plain words, not a client library's message ("Connection is closed.", "Stream isn't writeable ...").
    expect(answer.body).toEqual({
      status: "not ready",
      error: "redis: unreachable (connection refused)",
      checks: { postgres: "ok", redis: "unreachable (connection refused)", schema: "ok" },
    });
  });

  it("GET /readyz answers 503 naming the migration the database lacks, and the command that applies it", async () => {
    const old = await startApi();
    try {
      await old.prisma.$executeRawUnsafe("ALTER TABLE event_outbox DROP COLUMN traceparent");
      const answer = await get(old.app, "/readyz");
      expect(answer.status).toBe(503);
      const lacking = "the database lacks migration 0002_traceparent_and_relay_cursor_row (no column event_outbox.traceparent): run `pnpm db:migrate`";
      expect(answer.body).toEqual({ status: "not ready", error: `schema: ${lacking}`, checks: { postgres: "ok", redis: "ok", schema: lacking } });
    } finally {
      await old.close();
    }
  });

  it("GET /metrics reports each readiness check as outbox_ready{check}", async () => {
    const up = (await api.app.inject({ url: "/metrics", headers: admin })).body;
    expect(up).toMatch(/^outbox_ready\{check="postgres"\} 1$/m);
    expect(up).toMatch(/^outbox_ready\{check="redis"\} 1$/m);
    expect(up).toMatch(/^outbox_ready\{check="schema"\} 1$/m);
    const down = (await noRedis.app.inject({ url: "/metrics", headers: admin })).body;
    expect(down).toMatch(/^outbox_ready\{check="postgres"\} 1$/m);
    expect(down).toMatch(/^outbox_ready\{check="redis"\} 0$/m);
  });

  it("GET /readyz answers 503 naming Postgres when Postgres is gone", async () => {
    await noRedis.prisma.$disconnect();
    await noRedis.db.drop();
    const answer = await get(noRedis.app, "/readyz");
    expect(answer.status).toBe(503);
    expect(answer.body.error).toBe("postgres: unreachable (database does not exist); redis: unreachable (connection refused)");
  });
});
