import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { orderEvents } from "@outbox/domain";
import { createQueues, createRedis, type QueueSet } from "outbox-relay/queues";
import { createTestDatabase, createTestRedis, forbidModules, prismaModules, type TestDatabase, type TestRedis } from "@outbox/testing";

const mainScript = path.resolve(import.meta.dirname, "../src/main.ts");
let db: TestDatabase;
let redis: TestRedis;
let prisma: PrismaClient;
let queues: QueueSet;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  prisma = createPrisma(db.url);
  queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, orderEvents);
});
afterAll(async () => {
  await queues.close();
  queues.connection.disconnect();
  await prisma.$disconnect();
  await redis.clean();
  await db.drop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pnpm outbox ...` as users do (node --import tsx apps/cli/src/main.ts), against this test's
 * db and prefix, in a process that fails if it ever loads Prisma (the CLI runs on outbox-relay/sql).
 */
async function outbox(...args: string[]): Promise<Run> {
  const noPrisma = forbidModules(prismaModules);
  const env = { ...process.env, ...noPrisma.env, DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: "silent" };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...noPrisma.execArgv, mainScript, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const tenantPayload = (tenantId: string) => ({ tenantId, name: "Acme", slug: `acme-${tenantId.slice(0, 8)}`, createdAt: "2026-03-14T10:00:00.000Z" });

function row(status: string, overrides: Partial<{ eventType: string; payload: object; createdAt: Date; lastError: string }> = {}) {
  const tenantId = randomUUID();
  return {
    id: randomUUID(),
    eventType: "TenantCreated",
    aggregateType: "tenant",
    aggregateId: tenantId,
    tenantId,
    payload: tenantPayload(tenantId),
    status,
    attempts: status === "dead" ? 3 : status === "processed" ? 1 : 0,
    lastError: status === "dead" ? "handler exploded: connection reset" : null,
    createdAt: new Date("2026-03-14T10:00:00Z"),
    ...(status === "processed" ? { processedAt: new Date("2026-03-14T10:00:01Z") } : {}),
    ...overrides,
  };
}

let deadTenant: ReturnType<typeof row>;
let deadUser: ReturnType<typeof row>;
let processed: ReturnType<typeof row>[];

beforeEach(async () => {
  await prisma.eventOutbox.deleteMany();
  deadTenant = row("dead", { createdAt: new Date(Date.now() - 3 * 3600_000) });
  deadUser = row("dead", { eventType: "UserCreated", lastError: "smtp said no", createdAt: new Date(Date.now() - 600_000) });
  processed = [
    row("processed", { createdAt: new Date("2026-03-14T09:00:00Z") }),
    row("processed", { createdAt: new Date("2026-03-14T11:00:00Z") }),
    row("processed", { createdAt: new Date("2026-03-16T11:00:00Z") }),
  ];
  await prisma.eventOutbox.createMany({ data: [deadTenant, deadUser, ...processed, row("pending")] });
  await prisma.$executeRaw`ANALYZE event_outbox`;
});

describe("pnpm outbox: arguments", () => {
  it("prints the help with exit 0", async () => {
    const run = await outbox("--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: pnpm outbox <command>");
    expect(run.stdout).toContain("replay --type T --since ISO");
  });

  it("refuses an event type the order catalog does not know, naming the known ones", async () => {
    const run = await outbox("replay", "--type", "Nope", "--since", "2026-01-01");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^outbox: --type: unknown event type "Nope" \(known: [A-Za-z, ]*TenantCreated/);
  });

  it("exits 2 on a bad argument, with the reason and a hint on stderr", async () => {
    const run = await outbox("frobnicate");
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe('outbox: unknown command "frobnicate"\nRun "pnpm outbox --help" for the commands.\n');
  });

  it("reports a bad argument as JSON on stderr with --json", async () => {
    const run = await outbox("dlq", "skip", "nope", "--json");
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: "CLI_USAGE", message: 'event id "nope" is not a UUID' } });
  });
});

describe("pnpm outbox: its module graph", () => {
  it("never loads Prisma", async () => {
    // Every run here forbids Prisma's modules (packages/outbox-relay/test/webhooks/module-graph.test.ts shows the guard bites).
    const run = await outbox("stats", "--json");
    expect(run.stderr).not.toContain("forbidden module");
    expect(run.code).toBe(0);
  });
});

describe("pnpm outbox stats", () => {
  it("prints the figures as tables and as JSON", async () => {
    const text = await outbox("stats");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^pending\s+1$/m);
    expect(text.stdout).toMatch(/^processed\s+3$/m);
    expect(text.stdout).not.toContain("~");
    expect(text.stdout).toMatch(/^dead\s+2$/m);
    expect(text.stdout).toMatch(/^events\s+0\s+0\s+0\s+0$/m);
    expect(text.stdout).toMatch(/^dlq size\s+2$/m);
    expect(text.stdout).toMatch(/^relay backlog \(not read yet\)\s+1$/m);
    expect(text.stdout).toMatch(/^unknown types \(wait for a worker\)\s+none$/m);

    const json = await outbox("stats", "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      outbox: { pending: 1, dispatched: 0, processed: 3, skipped: 0, dead: 2 },
      estimated: [],
      queues: { events: { waiting: 0, active: 0, delayed: 0, failed: 0 } },
      dlqSize: 2,
      heldEvents: 0,
      heldAggregates: 0,
      relayBacklog: 1,
      unknownTypes: {},
    });
  });
});

describe("pnpm outbox dlq", () => {
  it("lists dead events oldest first, as a table and as JSON, filtered by type", async () => {
    const text = await outbox("dlq", "list");
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^id\s+type\s+aggregate\s+attempts\s+last error\s+age$/);
    expect(lines[1]).toMatch(new RegExp(`^${deadTenant.id}\\s+TenantCreated\\s+tenant:${deadTenant.aggregateId}\\s+3\\s+handler exploded: connection reset\\s+3h$`));
    expect(lines[2]).toMatch(new RegExp(`^${deadUser.id}\\s+UserCreated\\s+.*smtp said no\\s+10m$`));

    const json = await outbox("dlq", "list", "--type", "UserCreated", "--json");
    expect(JSON.parse(json.stdout)).toEqual({
      events: [
        {
          id: deadUser.id,
          eventType: "UserCreated",
          aggregateType: "tenant",
          aggregateId: deadUser.aggregateId,
          attempts: 3,
          lastError: "smtp said no",
          createdAt: deadUser.createdAt.toISOString(),
          ageMs: expect.any(Number) as unknown,
        },
      ],
    });
  });

  it("retries one dead event, and refuses an unknown or not-dead id with exit 1", async () => {
    const run = await outbox("dlq", "retry", deadTenant.id);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`retried ${deadTenant.id}`);
    expect(await prisma.eventOutbox.findUnique({ where: { id: deadTenant.id } })).toMatchObject({ status: "pending", attempts: 0 });
    expect((await queues.events.getJob(deadTenant.id))?.data).toMatchObject({ type: "TenantCreated", previousAttempts: 0 });

    const unknown = randomUUID();
    const missing = await outbox("dlq", "retry", unknown);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toContain(`no event with id ${unknown}`);

    const notDead = await outbox("dlq", "retry", processed[0]!.id, "--json");
    expect(notDead.code).toBe(1);
    expect(JSON.parse(notDead.stderr)).toEqual({ error: { code: "EVENT_NOT_DEAD", message: `event ${processed[0]!.id} is processed, not dead` } });
  });

  it("retries every dead event of one type with --all --type", async () => {
    const run = await outbox("dlq", "retry", "--all", "--type", "UserCreated", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ retried: [deadUser.id] });
    expect((await prisma.eventOutbox.findUnique({ where: { id: deadUser.id } }))?.status).toBe("pending");
    expect((await prisma.eventOutbox.findUnique({ where: { id: deadTenant.id } }))?.status).toBe("dead");

    const all = await outbox("dlq", "retry", "--all");
    expect(all).toMatchObject({ code: 0, stdout: "retried 1 dead event\n" });
    expect(await prisma.eventOutbox.count({ where: { status: "dead" } })).toBe(0);
  });

  it("skips a dead event, queueing the event it held back, and refuses to skip it twice", async () => {
    const next = { ...row("pending", { eventType: "UserCreated" }), aggregateId: deadUser.aggregateId };
    await prisma.eventOutbox.create({ data: next });
    const run = await outbox("dlq", "skip", deadUser.id, "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ skipped: [deadUser.id] });
    const skipped = await prisma.eventOutbox.findUniqueOrThrow({ where: { id: deadUser.id } });
    expect(skipped.status).toBe("skipped");
    expect(skipped.processedAt).not.toBeNull();
    expect(await queues.events.getJob(next.id)).toBeDefined();

    const again = await outbox("dlq", "skip", deadUser.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is skipped, not dead");
  });
});

describe("pnpm outbox replay", () => {
  it("publishes copies of the processed events in the window, with new ids and the original as causation", async () => {
    const run = await outbox("replay", "--type", "TenantCreated", "--since", "2026-03-14", "--until", "2026-03-15T00:00:00Z", "--json");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { replayed: { originalId: string; copyId: string }[] };
    expect(result.replayed.map((r) => r.originalId)).toEqual([processed[0]!.id, processed[1]!.id]);

    const copies = await prisma.eventOutbox.findMany({ where: { causationId: { not: null } }, orderBy: { sequence: "asc" } });
    expect(copies.map((c) => c.id)).toEqual(result.replayed.map((r) => r.copyId));
    for (const [i, copy] of copies.entries()) {
      const original = processed[i]!;
      expect(copy.id).not.toBe(original.id);
      expect(copy).toMatchObject({ causationId: original.id, eventType: "TenantCreated", status: "pending", aggregateId: original.aggregateId, tenantId: original.tenantId });
      expect(copy.payload).toEqual(original.payload);
    }
    expect(await prisma.eventOutbox.count({ where: { id: { in: processed.map((p) => p.id) }, status: "processed" } })).toBe(3);

    const text = await outbox("replay", "--type", "TenantCreated", "--since", "2026-03-16T00:00:00Z");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^replayed 1 TenantCreated event created 2026-03-16T00:00:00.000Z \.\./);
    expect(text.stdout).toContain(`${processed[2]!.id} -> `);
  });

  it("replays nothing and exits 1 when a payload no longer matches its schema", async () => {
    const broken = row("processed", { payload: { tenantId: "t", name: "" }, createdAt: new Date("2026-03-14T12:00:00Z") });
    await prisma.eventOutbox.create({ data: broken });
    const run = await outbox("replay", "--type", "TenantCreated", "--since", "2026-03-14", "--until", "2026-03-15");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`event ${broken.id} no longer matches the TenantCreated schema`);
    expect(await prisma.eventOutbox.count({ where: { causationId: { not: null } } })).toBe(0);
  });
});
