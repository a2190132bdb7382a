// pnpm bench [--scenarios real,real-prisma,drain,peers,steady,statements,api,scale,large,cluster,webhooks] [--events N]
//            [--real-events N] [--runs R] [--rate EPS] [--seconds S] [--api-seconds S]
//            [--concurrency C] [--peer-jobs N]   (peers: pg-boss and graphile-worker, N defaults to --events)
//            [--webhook-deliveries 5000]   (webhooks: delivery against a bare signed-fetch loop, a never-answering
//            endpoint's neighbours, new deliveries beside due retries; about a minute)
// pnpm bench --scenarios soak [--soak-minutes 60] [--soak-orders 40] [--soak-rows 100]
//            [--fault-every-seconds 300]   (an hour under faults; not in the default set)
// Every throughput figure is compared with raw BullMQ doing the same number of jobs in the same
// run on this machine (webhooks: with a bare signed-fetch loop, and the worker, receivers and loop
// all in this process); prints one table per scenario and writes bench/results/<timestamp>.json.
// Measured processes run as bundles (plain JavaScript), as `pnpm start` runs them.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startRedisCluster } from "@outbox/testing";
import type { CpuSample } from "./cpu.ts";
import { buildChild, median } from "./measure.ts";
import { apiLoad } from "./scenarios/api-load.ts";
import { drain, type DrainResult } from "./scenarios/drain.ts";
import { largeTable } from "./scenarios/large-table.ts";
import { peers } from "./scenarios/peers.ts";
import { statementsPerBatch } from "./scenarios/statements.ts";
import { steadyLoad } from "./scenarios/steady.ts";
import { webhooks } from "./scenarios/webhooks.ts";
import { createBenchSetup } from "./setup.ts";
import { plotSoak } from "./soak/plot.ts";
import { soak } from "./soak/soak.ts";

const { values: args } = parseArgs({
  options: {
    scenarios: { type: "string", default: "real,real-prisma,drain,peers,steady,statements,api,scale,large,cluster,webhooks" },
    events: { type: "string", default: "100000" },
    "real-events": { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "30" },
    "api-seconds": { type: "string", default: "60" },
    "scale-events": { type: "string", default: "40000" },
    concurrency: { type: "string", default: "200" },
    "peer-jobs": { type: "string" },
    "soak-minutes": { type: "string", default: "60" },
    "soak-orders": { type: "string", default: "40" },
    "soak-rows": { type: "string", default: "100" },
    "fault-every-seconds": { type: "string", default: "300" },
    "webhook-deliveries": { type: "string", default: "5000" },
  },
});
const scenarios = new Set(args.scenarios.split(","));
const events = Number(args.events);
const concurrency = Number(args.concurrency);
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const fixed = (value: number, digits = 0) => value.toFixed(digits);

function summarizeDrains(runs: DrainResult[]) {
  return {
    workers: runs[0]!.workers,
    events: runs[0]!.events,
    handlers: runs[0]!.handlers,
    rawPerSecond: median(runs.map((r) => r.rawPerSecond)),
    outboxPerSecond: median(runs.map((r) => r.outboxPerSecond)),
    ratio: median(runs.map((r) => r.ratio)),
    ratios: runs.map((r) => r.ratio),
    workerPeakRssMb: Math.max(...runs.map((r) => r.outboxPeakRssMb)),
    workerIdleRssMb: Math.max(...runs.map((r) => r.outboxIdleRssMb)),
    eventsPerBatch: median(runs.map((r) => r.eventsPerBatch)),
    statementsPerBatch: median(runs.map((r) => r.statementsPerBatch)),
    cpuMicrosPerEvent: medianCpu(runs.map((r) => r.cpuMicrosPerEvent)),
    rawCpuMicrosPerEvent: medianCpu(runs.map((r) => r.rawCpuMicrosPerEvent)),
  };
}

function medianCpu(samples: CpuSample[]): CpuSample {
  return { worker: median(samples.map((s) => s.worker)), postgres: median(samples.map((s) => s.postgres)), redis: median(samples.map((s) => s.redis)) };
}

const cpuText = (cpu: CpuSample) => `${cpu.worker} / ${cpu.postgres} / ${cpu.redis}`;

async function drains(label: string, options: Parameters<typeof drain>[1]) {
  const runs: DrainResult[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    runs.push(await drain(setup, options));
    log(`${label} run ${run + 1}: raw ${fixed(runs.at(-1)!.rawPerSecond)}/s, outbox ${fixed(runs.at(-1)!.outboxPerSecond)}/s`);
  }
  const drained = summarizeDrains(runs);
  console.table({
    "raw BullMQ add + process, no-op (jobs/s)": fixed(drained.rawPerSecond),
    "outbox commit → processed (events/s)": fixed(drained.outboxPerSecond),
    "ratio outbox / raw (median of runs)": `${fixed(drained.ratio, 2)} (runs ${drained.ratios.map((r) => fixed(r, 2)).join(", ")})`,
    "events / statements per processor batch": `${fixed(drained.eventsPerBatch, 1)} / ${fixed(drained.statementsPerBatch, 1)}`,
    "worker RSS idle / peak (MB)": `${fixed(drained.workerIdleRssMb)} / ${fixed(drained.workerPeakRssMb)}`,
    "CPU µs per event, worker / Postgres / Redis": cpuText(drained.cpuMicrosPerEvent),
    "CPU µs per job of raw BullMQ, its process / Postgres / Redis": cpuText(drained.rawCpuMicrosPerEvent),
  });
  return drained;
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  settings: args,
};
await buildChild();
const setup = await createBenchSetup(concurrency);
try {
  const realEvents = Number(args["real-events"]);
  let real: ReturnType<typeof summarizeDrains> | undefined;
  let realPrisma: ReturnType<typeof summarizeDrains> | undefined;
  if (scenarios.has("real")) {
    console.log(`\n(0) drain ${realEvents} events through the real domain handlers (UserCreated, ProductCreated, OrderCreated for seeded entities) and the mailer, 1 worker process`);
    results.real = real = await drains("real", { events: realEvents, workers: 1, concurrency, handlers: "domain" });
  }
  if (scenarios.has("real-prisma")) {
    console.log(`\n(0p) the same drain with the handlers' transactions in the shop's Prisma client (startWorker's prisma option): the same handlers' tx.query(sql…) as Prisma raw queries`);
    results.realPrisma = realPrisma = await drains("real-prisma", { events: realEvents, workers: 1, concurrency, handlers: "domain", transactions: "prisma" });
  }
  if (real && realPrisma) {
    const prismaOverSql = { eventsPerSecond: realPrisma.outboxPerSecond / real.outboxPerSecond, ratioToRaw: realPrisma.ratio / real.ratio };
    results.prismaOverSql = prismaOverSql;
    console.log("\n(0p / 0) real-handler drain, the Prisma path over the sql path (same run, same machine)");
    console.table({
      "events/s, Prisma / sql": `${fixed(realPrisma.outboxPerSecond)} / ${fixed(real.outboxPerSecond)} = ${fixed(prismaOverSql.eventsPerSecond, 2)}`,
      "ratio to raw BullMQ, Prisma / sql": `${fixed(realPrisma.ratio, 2)} / ${fixed(real.ratio, 2)} = ${fixed(prismaOverSql.ratioToRaw, 2)}`,
    });
  }
  if (scenarios.has("drain")) {
    console.log(`\n(1) drain a backlog of ${events} events, no-op handler, 1 worker process`);
    results.drain = await drains("drain", { events, workers: 1, concurrency });
  }
  if (scenarios.has("peers")) {
    const jobs = Number(args["peer-jobs"] ?? args.events);
    const measured = await peers(setup, { jobs, concurrency, log });
    results.peers = measured;
    const { pgBoss, graphile } = measured.settings;
    console.log(`\n(1p) the peers a team would pick instead: ${jobs} no-op jobs each, enqueued in bulk before the clock starts (raw BullMQ: add + process, and the drain alone)`);
    console.table({
      "raw BullMQ add + process, no-op (jobs/s)": fixed(measured.rawBullmqPerSecond),
      "raw BullMQ, jobs added before the clock: the drain alone (jobs/s)": fixed(measured.rawBullmqDrainPerSecond),
      [`pg-boss ${pgBoss.version}, work() batch ${pgBoss.batchSize}, burst (jobs/s)`]: `${fixed(measured.pgBossPerSecond)} (${fixed(measured.pgBossOverRaw, 2)} × raw, ${fixed(measured.pgBossOverRawDrain, 2)} × raw drain)`,
      [`graphile-worker ${graphile.version}, localQueue ${graphile.localQueueSize}, batched completion (jobs/s)`]: `${fixed(measured.graphileBatchedPerSecond)} (${fixed(measured.graphileOverRaw, 2)} × raw, ${fixed(measured.graphileOverRawDrain, 2)} × raw drain)`,
    });
    const cpu = measured.cpuMicrosPerJob;
    console.table({
      "CPU µs per job, its process / Postgres / Redis: raw BullMQ add + process": cpuText(cpu.rawBullmq),
      "raw BullMQ, the drain alone": cpuText(cpu.rawBullmqDrain),
      "pg-boss": cpuText(cpu.pgBoss),
      "graphile-worker": cpuText(cpu.graphile),
    });
  }
  if (scenarios.has("steady")) {
    const steady = await steadyLoad(setup, Number(args.rate), Number(args.seconds));
    results.steady = steady;
    console.log(`\n(2a) steady ${steady.rate} events/s for ${steady.seconds} s, one transaction each (plain SQL producer)`);
    console.table({
      "commit → handler start p50 / p95 / p99 (ms)": [steady.latencyP50Ms, steady.latencyP95Ms, steady.latencyP99Ms].map((v) => fixed(v, 1)).join(" / "),
      "outbox lag p50 / max (ms)": `${fixed(steady.lagP50Ms)} / ${fixed(steady.lagMaxMs)}`,
    });
  }
  if (scenarios.has("webhooks")) {
    const hooks = await webhooks(setup, { deliveries: Number(args["webhook-deliveries"]), log });
    results.webhooks = hooks;
    const { isolation, firstAttemptsBehindRetries: retries } = hooks;
    console.log(`\n(7) webhooks: ${hooks.deliveries} deliveries to ${hooks.endpoints} loopback receivers (one per tenant), webhook concurrency ${hooks.webhookConcurrency}`);
    console.table({
      "bare signed fetch loop, same concurrency (POSTs/s)": fixed(hooks.bareFetchPerSecond),
      "outbox commit → delivered (deliveries/s)": fixed(hooks.deliveriesPerSecond),
      "ratio outbox / bare fetch": fixed(hooks.ratio, 2),
      "statements per delivery, worker's pool": fixed(hooks.statementsPerDelivery, 1),
      "CPU µs per delivery, this process / Postgres / Redis": cpuText(hooks.cpuMicrosPerDelivery),
      "CPU µs per bare POST, this process / Postgres / Redis": cpuText(hooks.cpuMicrosPerBarePost),
      [`isolation: ${isolation.published} at 50/s, one endpoint never answers; healthy publish → received p50 / p99 (ms)`]: `${fixed(isolation.healthyP50Ms, 1)} / ${fixed(isolation.healthyP99Ms, 1)}`,
      "isolation: the slow endpoint's deliveries in flight at most": isolation.slowEndpointDeliveries,
      "retries due / still waiting when the new deliveries were all received": `${retries.retriesDue} / ${retries.retriesStillWaitingWhenNewDone}`,
      "new deliveries beside them, publish → received p50 / p99 (ms)": `${fixed(retries.newP50Ms, 1)} / ${fixed(retries.newP99Ms, 1)}`,
    });
  }
  if (scenarios.has("statements")) {
    const counts = await statementsPerBatch(setup);
    results.statements = counts;
    console.log("\n(6) statements one processor batch sends, real domain handlers, by batch size");
    console.table(Object.fromEntries(Object.entries(counts).map(([type, bySize]) => [type, Object.fromEntries(Object.entries(bySize).map(([size, n]) => [`batch of ${size}`, n]))])));
  }
  if (scenarios.has("api")) {
    const api = await apiLoad(setup, { seconds: Number(args["api-seconds"]) });
    results.api = api;
    const phase = (p: typeof api.atSixtyPercent) =>
      `${fixed(p.ordersPerSecond)} orders/s; HTTP p50 ${fixed(p.latencyP50Ms, 1)} / p99 ${fixed(p.latencyP99Ms, 1)} ms; ${JSON.stringify(p.statuses)}; dropped ${p.dropped}; slowest refusal ${fixed(p.refusalMaxMs)} ms, Retry-After on each: ${p.refusalsWithRetryAfter}`;
    console.log("\n(2b) POST /api/orders through the real API and worker processes (autocannon)");
    console.table({
      "bare Fastify + pg, same rows (orders/s)": fixed(api.baselineOrdersPerSecond),
      "the API's capacity (orders/s)": fixed(api.capacityOrdersPerSecond),
      "ratio API / bare": fixed(api.ratio, 2),
      [`at 60% of capacity, ${api.atSixtyPercent.seconds} s`]: phase(api.atSixtyPercent),
      "at 3× capacity, 30 s": phase(api.atThreeTimes),
      "accepted / handled / half-written": `${api.accepted} / ${api.handled} / ${api.halfWritten}`,
    });
  }
  if (scenarios.has("scale")) {
    const scale = [];
    for (const workers of [1, 2, 4]) {
      scale.push(await drain(setup, { events: Number(args["scale-events"]), workers, concurrency }));
      log(`scale ${workers}: raw ${fixed(scale.at(-1)!.rawPerSecond)}/s, outbox ${fixed(scale.at(-1)!.outboxPerSecond)}/s`);
    }
    results.scale = scale;
    console.log(`\n(3) scale-out: ${args["scale-events"]} events, 1, 2 and 4 worker processes on one database and Redis`);
    console.table(Object.fromEntries(scale.map((s) => [`${s.workers} process(es)`, { "raw jobs/s": fixed(s.rawPerSecond), "outbox events/s": fixed(s.outboxPerSecond), ratio: fixed(s.ratio, 2) }])));
  }
  if (scenarios.has("large")) {
    const large = await largeTable(setup);
    results.large = large;
    console.log(`\n(4) ${large.pending} pending rows, then ${large.processed} processed rows beside them`);
    console.table({
      "relay read of 500 (ms) small → large": `${fixed(large.relayReadMsSmall, 2)} → ${fixed(large.relayReadMsLarge, 2)} (×${fixed(large.relayReadRatio, 2)})`,
      "stats (ms) small → large": `${fixed(large.statsMsSmall, 2)} → ${fixed(large.statsMsLarge, 2)} (×${fixed(large.statsRatio, 2)})`,
      "relay reads event_outbox_relay_idx": String(large.relayReadsRelayIndex),
    });
  }
  if (scenarios.has("cluster")) {
    const cluster = await startRedisCluster();
    try {
      const onCluster = await drain(setup, { events: Number(args["scale-events"]), workers: 1, concurrency, env: { REDIS_CLUSTER_NODES: cluster.nodes } });
      results.cluster = onCluster;
      console.log(`\n(1c) drain ${onCluster.events} events on a three-master Redis Cluster`);
      console.table({ "raw jobs/s": fixed(onCluster.rawPerSecond), "outbox events/s": fixed(onCluster.outboxPerSecond), ratio: fixed(onCluster.ratio, 2) });
    } finally {
      await cluster.stop();
    }
  }
  const dir = path.resolve(import.meta.dirname, "../results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${String(results.date).replaceAll(":", "-")}.json`);
  if (scenarios.has("soak")) {
    const minutes = Number(args["soak-minutes"]);
    console.log(`\n(5) soak: ${minutes} min of orders, payments and cancels through the API plus plain-SQL rows, a fault every ${args["fault-every-seconds"]} s`);
    const soaked = await soak({
      minutes,
      ordersPerSecond: Number(args["soak-orders"]),
      rowsPerSecond: Number(args["soak-rows"]),
      faultEverySeconds: Number(args["fault-every-seconds"]),
      sampleEverySeconds: 10,
      warmupSeconds: Math.min(300, minutes * 6),
      retentionMs: 120_000,
      keepPostgresLog: file.replace(/\.json$/, "-soak-postgres.log"),
      log,
    });
    results.soak = soaked;
    const plot = file.replace(/\.json$/, "-soak.svg");
    await writeFile(plot, await plotSoak(soaked));
    const growth = (g: (typeof soaked.growth)[string]) => (g ? `${fixed(g.fromMb)} → ${fixed(g.toMb)} MB, fitted rise ${fixed(g.growthMb, 1)} MB (${fixed(g.slopeMbPerHour, 1)} MB/h)` : "-");
    console.table({
      "ledger: events / lost / doubled / inversions / unfinished / dead": [soaked.check.events, soaked.check.lost, soaked.check.doubled, soaked.check.inversions, soaked.check.unfinished, soaked.check.dead].join(" / "),
      "faults": soaked.faults.map((f) => `${f.at}s ${f.fault}`).join(", "),
      "API RSS after warm-up": growth(soaked.growth.api),
      "worker (never killed) RSS after warm-up": growth(soaked.growth["worker-a"]),
      "Redis keys / used_memory max": `${soaked.bounds.redisKeysMax} / ${fixed(soaked.bounds.redisMemoryMbMax, 1)} MB`,
      "outbox rows max: 2nd quarter / last quarter": `${soaked.bounds.outboxRowsSecondQuarterMax} / ${soaked.bounds.outboxRowsLastQuarterMax} (size max ${fixed(soaked.bounds.outboxSizeMbMax, 1)} MB)`,
      "deadlocks detected by Postgres": soaked.deadlocks,
      "refusals with / without Retry-After, no answer, 5xx": `${soaked.refusals.withRetryAfter} / ${soaked.refusals.withoutRetryAfter}, ${soaked.refusals.noAnswer}, ${soaked.refusals.serverErrors}`,
    });
    if (soaked.surprises.count > 0) console.log(`${soaked.surprises.count} unexpected answers, e.g.:\n${soaked.surprises.examples.join("\n")}`);
    if (!soaked.check.passed) console.log(`ledger check FAILED:\n${soaked.check.problems.join("\n")}`);
    console.log(`plot: ${path.relative(process.cwd(), plot)}`);
  }
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
} finally {
  await setup.close();
}
