import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { loadConfig, type Env } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createLogger } from "outbox-relay/logger";
import { createQueues, createRedis, type QueueSet } from "outbox-relay/queues";
import { Database } from "outbox-relay/sql";
import { createTestDatabase, createTestRedis, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../src/index.ts";
import { testEffectsTable, testHandlers } from "./fixtures/test-handlers.ts";
import { type NewOrderEvent, orderEvents } from "@outbox/domain";

export interface PipelineEnv {
  db: TestDatabase;
  redis: TestRedis;
  prisma: PrismaClient;
  /** The engine's pool on the pipeline's database (dead-letter operations take it). */
  sql: Database;
  env: Record<string, string>;
  config(overrides?: Record<string, string>): Env;
  /** Producer-side queues on this pipeline's Redis prefix; closed (with their connection) by the caller. */
  openQueues(): QueueSet & { shut(): Promise<void> };
  cleanup(): Promise<void>;
}

/** A pipeline on a test database of the shared server, or on the one given (a private server's). */
export async function setupPipeline(overrides: Record<string, string> = {}, database?: TestDatabase): Promise<PipelineEnv> {
  const db = database ?? (await createTestDatabase());
  const redis = createTestRedis();
  const prisma = createPrisma(db.url);
  const sql = new Database(db.url, { poolSize: 4 });
  for (const statement of testEffectsTable.split(";").filter((s) => s.trim())) await prisma.$executeRawUnsafe(statement);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SCAN_CRON: "*/1 * * * * *",
    RECOVERY_INTERVAL_MS: "1000",
    JOB_LOCK_MS: "2000",
    RETRY_BACKOFF_MS: "200",
    SHUTDOWN_TIMEOUT_MS: "10000",
    WORKER_PORT: "0",
    ...overrides,
  };
  return {
    db,
    redis,
    prisma,
    sql,
    env,
    config: (more = {}) => loadConfig({ ...env, ...more }),
    openQueues() {
      const queues = createQueues(createRedis({ url: env.REDIS_URL }, "producer"), env.QUEUE_PREFIX, orderEvents);
      return Object.assign(queues, {
        async shut() {
          await queues.close();
          queues.connection.disconnect();
        },
      });
    },
    async cleanup() {
      await prisma.$disconnect();
      await sql.close();
      await redis.clean();
      await db.drop();
    },
  };
}

export async function startTestWorker(pipeline: PipelineEnv, overrides: Record<string, string> = {}): Promise<RunningWorker> {
  const config = pipeline.config(overrides);
  return startWorker({ config, handlers: testHandlers, logger: createLogger({ level: config.LOG_LEVEL }) });
}

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts the worker as a separate OS process and resolves once it is consuming. */
export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = fork(path.join(import.meta.dirname, "fixtures/worker-process.ts"), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`worker process exited with ${code} before it was ready`)));
  });
  return { child, exited };
}

export function tenantEvent(name = "Acme", id = randomUUID()): NewOrderEvent {
  return { type: "TenantCreated", payload: { tenantId: id, name, slug: `t-${id.slice(0, 8)}`, createdAt: new Date().toISOString() } };
}

export async function publishAll(prisma: PrismaClient, events: NewOrderEvent[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < events.length; i += 500) {
    ids.push(...(await prisma.$transaction((tx) => orderEvents.publishMany(tx, events.slice(i, i + 500)))));
  }
  return ids;
}

export async function statusCounts(prisma: PrismaClient): Promise<Record<string, number>> {
  const rows = await prisma.eventOutbox.groupBy({ by: ["status"], _count: { _all: true } });
  return Object.fromEntries(rows.map((row) => [row.status, row._count._all]));
}

export async function waitForStatus(prisma: PrismaClient, ids: string[], status: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await prisma.eventOutbox.count({ where: { id: { in: ids }, status } })) === ids.length, {
    timeoutMs,
    message: `${ids.length} events to be ${status} (now ${JSON.stringify(await statusCounts(prisma))})`,
  });
}

export async function effectsPerEvent(prisma: PrismaClient): Promise<Map<string, number>> {
  const rows = await prisma.$queryRaw<{ event_id: string; runs: number }[]>`
    SELECT event_id::text, count(*)::int AS runs FROM test_effects GROUP BY event_id`;
  return new Map(rows.map((row) => [row.event_id, row.runs]));
}

export { freePort, startPrivateRedis } from "@outbox/testing";
