// pnpm bench [--events N] [--runs R] [--rate EPS] [--seconds S] [--concurrency C]
// Compares the outbox pipeline with raw BullMQ in the same run, on this machine; prints a table
// and writes bench/results/<timestamp>.json.
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createTemplateDatabase, databaseUrl, deleteKeys, dropDatabase, redisUrl } from "@outbox/testing";
import { median, percentile, startChild } from "./measure.ts";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "64" },
    scenarios: { type: "string", default: "drain,steady" },
  },
});
const scenarios = new Set(args.scenarios.split(","));
const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const events = Number(args.events);
const runs = Number(args.runs);
const concurrency = Number(args.concurrency);

const database = await createTemplateDatabase();
const dbUrl = databaseUrl(database);
const prefix = `outbox-bench-${process.pid}`;
const env = { DATABASE_URL: dbUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency), LOG_LEVEL: "warn", WORKER_PORT: "0" };
const prisma = createPrisma(dbUrl, { poolSize: 20 });

async function reset(): Promise<void> {
  await prisma.$executeRawUnsafe("TRUNCATE event_outbox, event_inbox");
  await deleteKeys(`${prefix}*`);
}

async function insertBacklog(count: number): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload)
    SELECT gen_random_uuid(), 'TenantCreated', 'tenant', 'bench-' || g, 'bench-' || g,
      jsonb_build_object('tenantId', 'bench-' || g, 'name', 'Bench', 'slug', 'bench-' || g,
                         'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    FROM generate_series(1, ${count}::int) g`;
}

async function drainOnce() {
  await reset();
  const raw = await startChild(env, { run: "raw", jobs: events, concurrency, prefix: `${prefix}-raw` }).report;
  progress(`raw BullMQ: ${events} jobs in ${raw.seconds!.toFixed(2)} s`);
  await reset();
  // The worker is up and idle; the whole backlog commits at once and wakes it by NOTIFY.
  const child = startChild(env, { run: "outbox", expect: events });
  await child.ready;
  await new Promise((resolve) => setTimeout(resolve, 500));
  await insertBacklog(events);
  const committedAt = performance.timeOrigin + performance.now();
  const outbox = await child.report;
  outbox.seconds = (outbox.finishedAt - committedAt) / 1000;
  progress(`outbox: ${events} events in ${outbox.seconds.toFixed(2)} s`);
  const processed = await prisma.eventOutbox.count({ where: { status: "processed" } });
  if (processed !== events) throw new Error(`only ${processed} of ${events} rows are processed`);
  return { rawPerSecond: events / raw.seconds!, outboxPerSecond: events / outbox.seconds, outboxRssMb: outbox.maxRssMb, rawRssMb: raw.maxRssMb };
}

async function steadyLoad(rate: number, seconds: number) {
  await reset();
  const child = startChild(env, { run: "outbox", expect: rate * seconds, recordStarts: true });
  await child.ready;
  const commits = new Map<string, number>();
  const lagSamples: number[] = [];
  const sampler = setInterval(() => {
    void oldestPendingAgeMs(prisma).then((lag) => lagSamples.push(lag));
  }, 250);
  // Each event is its own committed transaction, written by a plain-SQL producer at a fixed rate.
  const producer = new pg.Pool({ connectionString: dbUrl, max: 16 });
  const perTick = rate / 100;
  const inFlight: Promise<unknown>[] = [];
  const started = Date.now();
  for (let tick = 0; tick < seconds * 100; tick++) {
    for (let i = 0; i < perTick; i++) {
      const id = randomUUID();
      const payload = { tenantId: id, name: "Steady", slug: `s-${id}`, createdAt: new Date().toISOString() };
      inFlight.push(
        producer
          .query("INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload) VALUES ($1, 'TenantCreated', 'tenant', $1, $2)", [id, payload])
          .then(() => commits.set(id, performance.timeOrigin + performance.now())),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (tick + 1) * 10 - Date.now())));
  }
  await Promise.all(inFlight);
  await producer.end();
  progress(`steady: ${commits.size} events committed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const report = await child.report;
  clearInterval(sampler);
  const latencies = report.starts!.map(([id, started]) => started - commits.get(id)!).sort((a, b) => a - b);
  const lags = [...lagSamples].sort((a, b) => a - b);
  return {
    events: latencies.length,
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95),
    latencyP99Ms: percentile(latencies, 99),
    lagP50Ms: percentile(lags, 50),
    lagMaxMs: lags.at(-1) ?? 0,
  };
}

async function oldestPendingAgeMs(client: PrismaClient): Promise<number> {
  const [row] = await client.$queryRaw<{ age: number | null }[]>`
    SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS age FROM event_outbox WHERE status = 'pending'`;
  return row?.age ?? 0;
}

try {
  const drains = [];
  for (let run = 0; run < runs && scenarios.has("drain"); run++) drains.push(await drainOnce());
  const rawPerSecond = median(drains.map((d) => d.rawPerSecond));
  const outboxPerSecond = median(drains.map((d) => d.outboxPerSecond));
  const ratios = drains.map((d) => d.outboxPerSecond / d.rawPerSecond);
  const steady = scenarios.has("steady") ? await steadyLoad(Number(args.rate), Number(args.seconds)) : undefined;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { events, runs, concurrency, rate: Number(args.rate), seconds: Number(args.seconds) },
    drain: { rawPerSecond, outboxPerSecond, ratioMedian: median(ratios), ratios, workerPeakRssMb: Math.max(...drains.map((d) => d.outboxRssMb)) },
    steady,
  };
  const table: Record<string, string> = {};
  if (drains.length) {
    table["raw BullMQ add+process (jobs/s)"] = rawPerSecond.toFixed(0);
    table["outbox end to end (events/s)"] = outboxPerSecond.toFixed(0);
    table["ratio outbox / raw (median)"] = result.drain.ratioMedian.toFixed(2);
    table["worker peak RSS (MB)"] = result.drain.workerPeakRssMb.toFixed(0);
  }
  if (steady) {
    table[`commit→handler p50 / p95 / p99 @${args.rate}/s (ms)`] = [steady.latencyP50Ms, steady.latencyP95Ms, steady.latencyP99Ms].map((v) => v.toFixed(1)).join(" / ");
    table["outbox lag p50 / max (ms)"] = `${steady.lagP50Ms.toFixed(0)} / ${steady.lagMaxMs.toFixed(0)}`;
  }
  console.table(table);

  const dir = path.resolve(import.meta.dirname, "../results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${result.date.replaceAll(":", "-")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${path.relative(process.cwd(), file)}`);
} finally {
  await prisma.$disconnect();
  await deleteKeys(`${prefix}*`);
  await dropDatabase(database);
}
