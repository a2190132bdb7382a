import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { admin, chromiumInstalled, startAdminBrowser, type AdminBrowser } from "./browser.ts";
import type { FastifyInstance } from "fastify";
import { createLogger } from "outbox-relay/logger";
import { waitFor } from "@outbox/testing";
import { buildApp } from "../src/app.ts";
import { publishAll, setupPipeline, tenantEvent, waitForStatus, type PipelineEnv } from "../../worker/test/helpers.ts";

describe("Bull Board in a real browser", () => {
  let harness: AdminBrowser;
  let pipeline: PipelineEnv;
  let queues: AdminBrowser["queues"];
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    harness = await startAdminBrowser();
    ({ pipeline, queues, browser, baseUrl } = harness);
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("refuses the board without the admin password", async () => {
    const anonymous = await fetch(`${baseUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${baseUrl}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from("ops:wrong").toString("base64")}` } });
    expect(wrong.status).toBe(401);
  });

  it("an admin logs in, opens the failed jobs, presses retry, and the event ends processed once its fault is fixed", async () => {
    expect(chromiumInstalled(), "Debian's chromium is installed (.ci/run installs it)").toBe(true);
    const aggregate = randomUUID();
    await pipeline.prisma.$executeRaw`INSERT INTO test_faults (aggregate_id) VALUES (${aggregate})`;
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("fault-table", aggregate)]);
    await waitForStatus(pipeline.prisma, [id!], "dead", 30_000);
    await waitFor(async () => (await queues.events.getJobState(id!)) === "failed", { message: "the failed job in Redis" });
    await pipeline.prisma.$executeRaw`DELETE FROM test_faults WHERE aggregate_id = ${aggregate}`;

    const context = await browser.newContext({ httpCredentials: admin });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/admin/queues`);
    await page.getByText("dead-letter").first().waitFor();
    await page.getByText("schedules").first().waitFor();
    await page.goto(`${baseUrl}/admin/queues/queue/events?status=failed`);
    await page.getByText(id!).first().waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Retry all" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await context.close();

    await waitForStatus(pipeline.prisma, [id!], "processed", 30_000);
    const row = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: id! } });
    expect(row.lastError).toBeNull();
    const effects = await pipeline.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM test_effects WHERE event_id = ${id}::uuid`;
    expect(effects[0]?.n).toBe(1);
    await waitFor(async () => (await queues.deadLetter.getJob(id!)) === undefined, { message: "the dead-letter entry to be cleared" });
  });
});

describe("admin API", () => {
  let pipeline: PipelineEnv;
  let queues: ReturnType<PipelineEnv["openQueues"]>;
  let app: FastifyInstance;
  const authorization = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString("base64")}`;

  beforeAll(async () => {
    pipeline = await setupPipeline();
    queues = pipeline.openQueues();
    const config = pipeline.config({ ADMIN_USER: admin.username, ADMIN_PASSWORD: admin.password });
    app = await buildApp({ config, db: pipeline.sql, prisma: pipeline.prisma, logger: createLogger({ level: "silent" }), queues });
  });
  afterAll(async () => {
    await app?.close();
    await queues?.shut();
    await pipeline?.cleanup();
  });

  it("lists, skips and retries dead events, answering 404 and 409 with the reason", async () => {
    const [dead, alive] = [randomUUID(), randomUUID()];
    await pipeline.prisma.$executeRaw`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error)
      VALUES (${dead}::uuid, 'TenantCreated', 'tenant', 'a1', '{}', 'dead', 3, 'boom'), (${alive}::uuid, 'UserCreated', 'user', 'a2', '{}', 'processed', 1, NULL)`;
    const list = await app.inject({ method: "GET", url: "/admin/api/dlq", headers: { authorization } });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ events: { id: string; lastError: string }[] }>().events).toMatchObject([{ id: dead, lastError: "boom" }]);

    expect((await app.inject({ method: "GET", url: "/admin/api/dlq" })).statusCode).toBe(401);
    const unknown = await app.inject({ method: "POST", url: `/admin/api/dlq/${randomUUID()}/skip`, headers: { authorization } });
    expect(unknown.statusCode).toBe(404);
    const notDead = await app.inject({ method: "POST", url: `/admin/api/dlq/${alive}/retry`, headers: { authorization } });
    expect(notDead.statusCode).toBe(409);
    expect(notDead.json<{ error: string }>().error).toMatch(/is processed, not dead/);
    const badId = await app.inject({ method: "POST", url: "/admin/api/dlq/not-a-uuid/retry", headers: { authorization } });
    expect(badId.statusCode).toBe(400);

    const skipped = await app.inject({ method: "POST", url: `/admin/api/dlq/${dead}/skip`, headers: { authorization } });
    expect(skipped.json()).toEqual({ skipped: [dead] });
    expect((await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: dead } })).status).toBe("skipped");

    const stats = await app.inject({ method: "GET", url: "/admin/api/stats", headers: { authorization } });
    expect(stats.json<{ outbox: Record<string, number>; dlqSize: number }>()).toMatchObject({ outbox: { dead: 0, pending: 0 }, dlqSize: 0 });
  });

  it("replays processed events of a type as new events linked to the originals", async () => {
    const [original] = await publishAll(pipeline.prisma, [tenantEvent("replayed")]);
    await pipeline.prisma.$executeRaw`UPDATE event_outbox SET status = 'processed', processed_at = now() WHERE id = ${original}::uuid`;
    const badType = await app.inject({ method: "POST", url: "/admin/api/replay", headers: { authorization }, payload: { type: "Nope", since: "yesterday" } });
    expect(badType.statusCode).toBe(400);
    expect(badType.json<{ issues: { path: string }[] }>().issues.map((i) => i.path).sort()).toEqual(["since", "type"]);

    const since = new Date(Date.now() - 60_000).toISOString();
    const refused = await app.inject({ method: "POST", url: "/admin/api/replay", headers: { authorization }, payload: { type: "UserCreated", since } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: string }>().error).toMatch(/no longer matches the UserCreated schema: .*userId.*; nothing was replayed/);

    const replay = await app.inject({ method: "POST", url: "/admin/api/replay", headers: { authorization }, payload: { type: "TenantCreated", since } });
    expect(replay.statusCode).toBe(200);
    const { replayed } = replay.json<{ replayed: { originalId: string; copyId: string }[] }>();
    expect(replayed.map((r) => r.originalId)).toEqual([original]);
    const copy = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: replayed[0]!.copyId } });
    expect(copy).toMatchObject({ status: "pending", causationId: original, eventType: "TenantCreated" });
  });
});
