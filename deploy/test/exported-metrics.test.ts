import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { buildApp } from "@outbox/api";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { orderEvents } from "@outbox/domain";
import { createLogger } from "outbox-relay/logger";
import { createQueues, createRedis, type QueueSet } from "outbox-relay/queues";
import { Database } from "outbox-relay/sql";
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from "@outbox/testing";
import { orderHandlers, startWorker, type RunningWorker } from "@outbox/worker";
import { readAlertRules, readDashboard } from "./files.ts";
import { exposedNames, metricNames } from "./promql.ts";

/** Series Prometheus makes itself for every target, not exported by a process. */
const prometheusSeries = new Set(["up"]);

let db: TestDatabase;
let redis: TestRedis;
let sql: Database;
let prisma: PrismaClient;
let queues: QueueSet;
let api: Awaited<ReturnType<typeof buildApp>>;
let worker: RunningWorker;
let exported: Set<string>;
const metricsToken = randomBytes(32).toString("base64url");

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    LOG_LEVEL: "silent",
    WORKER_PORT: "0",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ADMIN_PASSWORD: randomBytes(18).toString("base64url"),
    METRICS_TOKEN: metricsToken,
  });
  const logger = createLogger({ level: "silent" });
  worker = await startWorker({ config, handlers: orderHandlers(config), logger });
  sql = new Database(db.url, { poolSize: 2 });
  prisma = createPrisma(sql.pool);
  queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, orderEvents);
  api = await buildApp({ config, db: sql, prisma, logger, queues });

  const scraper = { authorization: `Bearer ${metricsToken}` };
  const apiText = (await api.inject({ url: "/metrics", headers: scraper })).body;
  const workerText = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`, { headers: scraper })).text();
  exported = new Set([...exposedNames(apiText), ...exposedNames(workerText)]);
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await queues?.close();
  queues?.connection.disconnect();
  await prisma?.$disconnect();
  await sql?.close();
  await redis?.clean();
  await db?.drop();
});

function unknownNames(exprs: string[]): string[] {
  return [...new Set(exprs.flatMap(metricNames))].filter((name) => !exported.has(name) && !prometheusSeries.has(name)).sort();
}

describe("metric names in the deploy files, against a real API's and worker's /metrics", () => {
  it("sees the metrics the alerts rely on, from each process", () => {
    for (const name of ["outbox_lag_seconds", "outbox_dispatched_total", "outbox_relay_last_step_timestamp_seconds", "outbox_ready", "events_dead_total"]) {
      expect(exported.has(name), name).toBe(true);
    }
  });

  it("every metric an alert rule reads is exported by the API or the worker", async () => {
    const rules = await readAlertRules();
    expect(unknownNames(rules.map((rule) => rule.expr))).toEqual([]);
  });

  it("every metric a dashboard panel queries is exported by the API or the worker", async () => {
    const targets = (await readDashboard()).panels.flatMap((panel) => panel.targets ?? []);
    expect(unknownNames(targets.map((target) => target.expr))).toEqual([]);
  });

  it("a renamed metric would be caught", () => {
    expect(unknownNames(["max(outbox_lag_secs) > 300", "up == 0"])).toEqual(["outbox_lag_secs"]);
  });
});
