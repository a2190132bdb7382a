import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";
import { migrate } from "@outbox/db";
import { freePort, startPrivatePostgres, startPrivateRedis } from "@outbox/testing";
import { root, startApp, stopApp, waitReady } from "../processes.ts";
import { checkLedger, countInversions, type Deliveries, type LedgerCheck } from "./check.ts";
import { Ledger } from "./ledger.ts";
import { growthAfter, Sampler, type Sample } from "./sampler.ts";
import { SqlProducer, Traffic, type Shop } from "./traffic.ts";

export interface SoakOptions {
  /** Where to keep the private Postgres server's log (deadlock reports, errors) when the soak ends. */
  keepPostgresLog?: string;
  minutes: number;
  /** Orders started per second through the API (each goes on to payments and cancels). */
  ordersPerSecond: number;
  /** UserCreated rows per second written by plain SQL. */
  rowsPerSecond: number;
  faultEverySeconds: number;
  sampleEverySeconds: number;
  warmupSeconds: number;
  /** Processed rows older than this are pruned (RETENTION_CRON runs every 10 s). */
  retentionMs: number;
  log?: (message: string) => void;
}

export const faults = ["redis-flushdb", "worker-kill-9", "postgres-terminate-connections", "postgres-restart"] as const;

export interface SoakResult {
  options: Omit<SoakOptions, "log">;
  faults: { at: number; fault: string }[];
  samples: Sample[];
  growth: Record<string, ReturnType<typeof growthAfter>>;
  bounds: { redisKeysMax: number; redisMemoryMbMax: number; outboxRowsMax: number; outboxSizeMbMax: number; outboxRowsLastQuarterMax: number; outboxRowsSecondQuarterMax: number };
  /** Deadlocks Postgres detected in the soak's database, as last sampled. */
  deadlocks: number;
  refusals: Ledger["refusals"];
  surprises: Ledger["surprises"];
  drainSeconds: number;
  check: LedgerCheck;
}

// Random per run: a secret written in this repository would be published.
const adminPassword = randomBytes(18).toString("base64url");
const metricsToken = `soak-metrics-${randomUUID()}`;
const admin = `Basic ${Buffer.from(`admin:${adminPassword}`).toString("base64")}`;

/** A webhook receiver on loopback that answers 200 and notes each distinct webhook-id per `type:orderId`. */
async function startReceiver(deliveries: Deliveries): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const { type, data } = JSON.parse(body) as { type: string; data: { orderId?: string } };
      const key = `${type}:${data.orderId ?? ""}`;
      if (!deliveries.has(key)) deliveries.set(key, new Set());
      deliveries.get(key)!.add(String(request.headers["webhook-id"]));
      response.writeHead(200).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${port}/hooks` };
}

async function post(base: string, path: string, body: unknown, authorization: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify(body) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer;
}

async function seedShop(base: string, receiverUrl: string, productCount: number): Promise<Shop> {
  const tenant = await post(base, "/api/tenants", { name: "Soak", slug: `soak-${Date.now()}` }, admin);
  const tenantId = tenant.id as string;
  const authorization = `Bearer ${tenant.apiKey as string}`;
  const seller = await post(base, "/api/users", { tenantId, email: "seller@example.com", role: "seller" }, authorization);
  const customer = await post(base, "/api/users", { tenantId, email: "buyer@example.com", role: "customer" }, authorization);
  const products: string[] = [];
  for (let i = 0; i < productCount; i++) {
    const product = await post(base, "/api/products", { tenantId, sellerId: seller.id, categoryId: "soak", name: `Widget ${i}`, price: 500, stock: 1_000_000_000 }, authorization);
    products.push(product.id as string);
  }
  await post(base, `/api/tenants/${tenantId}/webhook-endpoints`, { url: receiverUrl, events: ["order.created", "order.cancelled", "payment.completed", "payment.failed"] }, authorization);
  return { base, authorization, tenantId, customerId: customer.id as string, products };
}

/**
 * The system as `pnpm start` runs it (API and two workers, from their bundles) on a Postgres and a
 * Redis of the soak's own, under steady traffic, with a fault every `faultEverySeconds` in turn;
 * samples memory, Redis, the outbox table, lag and throughput; then drains and checks the ledger.
 */
export async function soak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const build = spawnSync(process.execPath, [`${root}/scripts/build.mjs`], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build.mjs failed");
  const postgres = await startPrivatePostgres();
  const redisServer = await startPrivateRedis();
  const apps: Record<string, ChildProcess> = {};
  // Ctrl-C or a kill of the bench: the servers and processes of this soak go with it.
  const abandon = () => {
    for (const child of Object.values(apps)) child.kill("SIGKILL");
    void redisServer.stop();
    postgres.stop();
    process.exit(130);
  };
  process.once("SIGINT", abandon).once("SIGTERM", abandon);
  const databaseUrl = postgres.url("soak");
  await migrate(databaseUrl);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  db.on("error", () => {});
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  const deliveries: Deliveries = new Map();
  const receiver = await startReceiver(deliveries);
  const [apiPort, workerAPort, workerBPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: "soak",
    HOST: "127.0.0.1",
    PORT: String(apiPort),
    ADMIN_PASSWORD: adminPassword,
    METRICS_TOKEN: metricsToken,
    // One tenant sends all the traffic: the soak watches the system, not the per-tenant limits.
    API_MAX_IN_FLIGHT_PER_TENANT: "64",
    API_RATE_LIMIT_MAX: "1000000000",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    // A delivery cut by a fault retries within seconds, not the production schedule's minutes: the soak checks them all at its end.
    WEBHOOK_RETRY_SCHEDULE: "0,1s,2s,4s,8s",
    RETENTION_CRON: "*/10 * * * * *",
    OUTBOX_RETENTION_MS: String(options.retentionMs),
    STATS_INTERVAL_MS: "60000",
  };
  const base = `http://127.0.0.1:${apiPort}`;
  const workerEnv = (port: number) => ({ ...env, WORKER_PORT: String(port), PORT: String(apiPort) });
  Object.assign(apps, {
    api: startApp("apps/api/dist/main.js", { ...env, WORKER_PORT: String(workerAPort) }),
    "worker-a": startApp("apps/worker/dist/main.js", workerEnv(workerAPort)),
    "worker-b": startApp("apps/worker/dist/main.js", workerEnv(workerBPort)),
  });
  const ledger = new Ledger();
  const timers: NodeJS.Timeout[] = [];
  let traffic: Traffic | undefined;
  let producer: SqlProducer | undefined;
  try {
    await Promise.all([waitReady(`${base}/readyz`), waitReady(`http://127.0.0.1:${workerAPort}/readyz`), waitReady(`http://127.0.0.1:${workerBPort}/readyz`)]);
    const productCount = 20;
    const shop = await seedShop(base, receiver.url, productCount);
    traffic = new Traffic(shop, ledger);
    producer = new SqlProducer(databaseUrl, shop.tenantId, ledger);
    const sampler = new Sampler(
      [
        { name: "api", pid: () => apps.api!.pid, metricsUrl: `${base}/metrics`, metricsAuthorization: `Bearer ${metricsToken}` },
        { name: "worker-a", pid: () => apps["worker-a"]!.pid, metricsUrl: `http://127.0.0.1:${workerAPort}/metrics`, metricsAuthorization: `Bearer ${metricsToken}` },
        { name: "worker-b", pid: () => apps["worker-b"]!.pid, metricsUrl: `http://127.0.0.1:${workerBPort}/metrics`, metricsAuthorization: `Bearer ${metricsToken}` },
      ],
      db,
      redis,
    );
    const samples: Sample[] = [];
    const faultLog: SoakResult["faults"] = [];
    let inversionsSeen = 0;
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 1000);

    // Ticks of 100 ms: start the orders and write the rows due in that tenth of a second.
    let ordersDue = 0;
    let rowsDue = 0;
    timers.push(setInterval(() => {
      ordersDue += options.ordersPerSecond / 10;
      rowsDue += options.rowsPerSecond / 10;
      for (; ordersDue >= 1; ordersDue--) traffic!.start();
      if (rowsDue >= 1) {
        void producer!.write(Math.floor(rowsDue));
        rowsDue -= Math.floor(rowsDue);
      }
    }, 100));

    const injectFault = async (fault: (typeof faults)[number]) => {
      log(`${elapsed()} s: ${fault}`);
      faultLog.push({ at: elapsed(), fault });
      switch (fault) {
        case "redis-flushdb":
          await redis.flushdb();
          break;
        case "worker-kill-9": {
          const victim = apps["worker-b"]!;
          await new Promise((resolve) => {
            victim.once("exit", resolve);
            victim.kill("SIGKILL");
          });
          apps["worker-b"] = startApp("apps/worker/dist/main.js", workerEnv(workerBPort));
          break;
        }
        case "postgres-terminate-connections":
          await db.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
          break;
        case "postgres-restart":
          postgres.restart();
          break;
      }
    };

    const endAt = started + options.minutes * 60_000;
    let nextSample = started + options.sampleEverySeconds * 1000;
    let nextFault = started + options.faultEverySeconds * 1000;
    let faultIndex = 0;
    while (Date.now() < endAt) {
      await sleep(Math.max(0, Math.min(nextSample, nextFault, endAt) - Date.now()));
      if (Date.now() >= nextSample) {
        const sample = await sampler.sample(ledger.orders.size);
        inversionsSeen = Math.max(inversionsSeen, await countInversions(db).catch(() => 0));
        samples.push(sample);
        log(`${sample.t} s: ${sample.handledPerSecond} events/s, lag ${sample.lagMs} ms, deadlocks ${sample.deadlocks ?? "-"}, rss ${Object.entries(sample.processes).map(([n, p]) => `${n} ${p?.rssMb ?? "-"}`).join(", ")} MB, redis keys ${sample.redis?.keys ?? "-"}, outbox rows ${sample.outbox?.rows ?? "-"}`);
        nextSample += options.sampleEverySeconds * 1000;
      }
      if (Date.now() >= nextFault && Date.now() < endAt + 1000) {
        const fault = faults[faultIndex++ % faults.length]!;
        await injectFault(fault);
        const last = samples.at(-1);
        if (last) last.fault = fault;
        nextFault += options.faultEverySeconds * 1000;
      }
    }
    // The last fault falls on the end: inject it if the clock skipped it.
    if (faultIndex < Math.floor((options.minutes * 60) / options.faultEverySeconds)) await injectFault(faults[faultIndex++ % faults.length]!);
    for (const timer of timers) clearInterval(timer);
    log(`traffic stopped; ${traffic.active} stories finishing`);
    await traffic.settle();
    const drainStarted = Date.now();
    await waitUntilFinished(db);
    const drainSeconds = Math.round((Date.now() - drainStarted) / 1000);
    const check = await checkLedger(db, ledger, deliveries, inversionsSeen, productCount);
    const series = (name: string) => samples.flatMap((s) => {
      const figures = s.processes[name];
      return figures ? [{ t: s.t, value: figures.rssMb }] : [];
    });
    const quarter = (from: number, to: number) => Math.max(0, ...samples.filter((s) => s.t >= from * options.minutes * 60 && s.t < to * options.minutes * 60).map((s) => s.outbox?.rows ?? 0));
    return {
      options: { ...options, log: undefined } as Omit<SoakOptions, "log">,
      faults: faultLog,
      samples,
      growth: {
        api: growthAfter(series("api"), options.warmupSeconds),
        "worker-a": growthAfter(series("worker-a"), options.warmupSeconds),
      },
      bounds: {
        redisKeysMax: Math.max(0, ...samples.map((s) => s.redis?.keys ?? 0)),
        redisMemoryMbMax: Math.max(0, ...samples.map((s) => s.redis?.usedMemoryMb ?? 0)),
        outboxRowsMax: Math.max(0, ...samples.map((s) => s.outbox?.rows ?? 0)),
        outboxSizeMbMax: Math.max(0, ...samples.map((s) => s.outbox?.sizeMb ?? 0)),
        outboxRowsSecondQuarterMax: quarter(0.25, 0.5),
        outboxRowsLastQuarterMax: quarter(0.75, 1.01),
      },
      deadlocks: Math.max(0, ...samples.map((s) => s.deadlocks ?? 0)),
      refusals: ledger.refusals,
      surprises: ledger.surprises,
      drainSeconds,
      check,
    };
  } finally {
    process.off("SIGINT", abandon).off("SIGTERM", abandon);
    for (const timer of timers) clearInterval(timer);
    await Promise.all(Object.values(apps).map(stopApp));
    await producer?.close();
    await new Promise((resolve) => receiver.server.close(resolve));
    redis.disconnect();
    await db.end();
    await redisServer.stop();
    if (options.keepPostgresLog) copyFileSync(postgres.logFile, options.keepPostgresLog);
    postgres.stop();
  }
}

async function waitUntilFinished(db: pg.Pool, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM event_outbox WHERE status NOT IN ('processed', 'skipped', 'dead')").catch(() => ({ rows: [{ n: -1 }] }));
    if (rows[0]!.n === 0) return;
    await sleep(500);
  }
}
