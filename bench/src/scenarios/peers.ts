import { cpuPerEvent, sampleCpu, type CpuSample } from "../cpu.ts";
// The peers a team would pick instead of this project, measured in the same run as raw BullMQ
// (issue 27): pg-boss and graphile-worker each drain the same number of no-op jobs, enqueued in
// bulk before the clock starts, each in a fresh database of its own that is dropped afterwards.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, makeWorkerUtils, run, type AddJobsJobSpec } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { databaseUrl, dropDatabase, onServer, uniqueName } from "@outbox/testing";
import { now } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";
import { drainRaw } from "./drain.ts";

interface PeerDrain {
  seconds: number;
  cpu: CpuSample;
}

export interface PeersResult {
  jobs: number;
  rawBullmqPerSecond: number;
  /** Raw BullMQ with every job added before the clock starts: the drain alone, as the peers are timed. */
  rawBullmqDrainPerSecond: number;
  pgBossPerSecond: number;
  graphileBatchedPerSecond: number;
  /** CPU microseconds per job of each peer's process (the bench's own, for pg-boss and graphile-worker), Postgres and Redis. */
  cpuMicrosPerJob: Record<"rawBullmq" | "rawBullmqDrain" | "pgBoss" | "graphile", CpuSample>;
  /** Each peer's jobs/s over raw BullMQ's. */
  pgBossOverRaw: number;
  graphileOverRaw: number;
  pgBossOverRawDrain: number;
  graphileOverRawDrain: number;
  settings: {
    rawBullmq: { concurrency: number };
    pgBoss: { version: string; batchSize: number; burstWhenBatchFull: boolean; localConcurrency: number; pollingIntervalSeconds: number };
    graphile: { version: string; concurrency: number; localQueueSize: number; completeJobBatchDelayMs: number; failJobBatchDelayMs: number; maxPoolSize: number };
  };
}

const PG_BOSS = { batchSize: 500, burstWhenBatchFull: true, localConcurrency: 2, pollingIntervalSeconds: 0.5 } as const;
const GRAPHILE = { concurrency: 10, localQueueSize: 500, completeJobBatchDelayMs: 0, failJobBatchDelayMs: 0, maxPoolSize: 12 } as const;
const INSERT_CHUNK = 10_000;

/** An empty database of its own for one peer, dropped by the returned function. */
async function freshDatabase(prefix: string) {
  const name = uniqueName(prefix);
  await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  return { url: databaseUrl(name), drop: () => dropDatabase(name) };
}

/** Statistics for the planner on the freshly filled tables, as autovacuum would have them (not timed). */
async function analyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
}

/** Polls `query` (a count) until it answers 0: the moment the peer's last completion committed. */
async function untilNoneLeft(url: string, query: string, params: unknown[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ left: number }>(query, params);
      if (rows[0]!.left === 0) return now();
      await sleep(5);
    }
  } finally {
    await client.end();
  }
}

/**
 * Resolves when `count()` reaches `target` (the handlers ran every job), checking every 5 ms; throws
 * the peer's first error, or after a generous bound (100 jobs/s, at least 2 minutes).
 */
async function untilHandled(count: () => number, target: number, failure: () => Error | undefined): Promise<void> {
  const giveUpAt = now() + Math.max(120_000, target * 10);
  while (count() < target) {
    const error = failure();
    if (error) throw error;
    if (now() > giveUpAt) throw new Error(`only ${count()} of ${target} jobs handled`);
    await sleep(5);
  }
}

/**
 * pg-boss: N jobs inserted in chunks of 10,000, then one `work()` with batches of 500 and
 * `burstWhenBatchFull` (v12's burst: while a fetch comes back full the worker fetches again with no
 * delay instead of waiting `pollingIntervalSeconds`), two local workers so one fetches while the
 * other completes (1 and 4 measured within the run-to-run noise of 2). `burstWhenReadyExceeds`
 * is not used: it reads a stats cache refreshed every 60 s by default. Timed from `work()` to the
 * last job's completion committed.
 */
async function drainPgBoss(jobs: number): Promise<PeerDrain> {
  const database = await freshDatabase("outbox_bench_pgboss");
  let failed: Error | undefined;
  const boss = new PgBoss({ connectionString: database.url, schedule: false });
  boss.on("error", (error) => (failed ??= error));
  try {
    await boss.start();
    const queue = "bench-noop";
    await boss.createQueue(queue);
    for (let offset = 0; offset < jobs; offset += INSERT_CHUNK) {
      const chunk = Array.from({ length: Math.min(INSERT_CHUNK, jobs - offset) }, (_, i) => ({ data: { i: offset + i } }));
      await boss.insert(queue, chunk);
    }
    await analyze(database.url);
    let handled = 0;
    const cpuBefore = sampleCpu([process.pid]);
    const started = now();
    await boss.work(queue, { ...PG_BOSS }, async (batch) => {
      handled += batch.length;
    });
    await untilHandled(() => handled, jobs, () => failed);
    const finished = await untilNoneLeft(database.url, "SELECT count(*)::int AS left FROM pgboss.job WHERE name = $1 AND state <> 'completed'", [queue]);
    const cpu = cpuPerEvent(cpuBefore, sampleCpu([process.pid]), jobs);
    if (handled !== jobs) throw new Error(`pg-boss ran ${handled} handlers for ${jobs} jobs`);
    return { seconds: (finished - started) / 1000, cpu };
  } finally {
    await boss.stop({ graceful: false, timeout: 5_000 }).catch(() => undefined);
    await database.drop();
  }
}

/**
 * graphile-worker: N jobs added with WorkerUtils.addJobs in chunks of 10,000, then a runner with a
 * local queue of 500 (one fetch locks 500 jobs) and batched completion and failure (delay 0: every
 * completion made before the next timer tick goes to Postgres in one statement; 10 ms measured the
 * same), 10 concurrent jobs (2 and 50 measured the same for a no-op task on 2 cores). Timed from
 * `run()` to the jobs table empty (graphile-worker deletes a job when it completes).
 */
async function drainGraphile(jobs: number): Promise<PeerDrain> {
  const database = await freshDatabase("outbox_bench_graphile");
  let failed: Error | undefined;
  // Errors and warnings only: the default logger prints a line for every completed job.
  const logger = new Logger(() => (level, message) => {
    if (level === "error") failed ??= new Error(`graphile-worker: ${message}`);
    if (level === "error" || level === "warning") process.stderr.write(`[graphile-worker] ${level}: ${message}\n`);
  });
  try {
    const utils = await makeWorkerUtils({ connectionString: database.url, logger });
    try {
      await utils.migrate();
      for (let offset = 0; offset < jobs; offset += INSERT_CHUNK) {
        const chunk: AddJobsJobSpec[] = Array.from({ length: Math.min(INSERT_CHUNK, jobs - offset) }, (_, i) => ({ identifier: "noop", payload: { i: offset + i } }));
        await utils.addJobs(chunk);
      }
    } finally {
      await utils.release();
    }
    await analyze(database.url);
    let handled = 0;
    const cpuBefore = sampleCpu([process.pid]);
    const started = now();
    const runner = await run({
      connectionString: database.url,
      logger,
      concurrency: GRAPHILE.concurrency,
      maxPoolSize: GRAPHILE.maxPoolSize,
      noHandleSignals: true,
      pollInterval: 2_000,
      taskList: {
        noop: async () => {
          handled++;
        },
      },
      preset: {
        worker: {
          localQueue: { size: GRAPHILE.localQueueSize },
          completeJobBatchDelay: GRAPHILE.completeJobBatchDelayMs,
          failJobBatchDelay: GRAPHILE.failJobBatchDelayMs,
        },
      },
    });
    try {
      await untilHandled(() => handled, jobs, () => failed);
      const finished = await untilNoneLeft(database.url, "SELECT count(*)::int AS left FROM graphile_worker._private_jobs", []);
      const cpu = cpuPerEvent(cpuBefore, sampleCpu([process.pid]), jobs);
      if (handled !== jobs) throw new Error(`graphile-worker ran ${handled} tasks for ${jobs} jobs`);
      return { seconds: (finished - started) / 1000, cpu };
    } finally {
      await runner.stop();
    }
  } finally {
    await database.drop();
  }
}

/** The installed version of one of the bench's dependencies. */
async function packageVersion(name: string): Promise<string> {
  const manifest = path.resolve(import.meta.dirname, "../../node_modules", name, "package.json");
  return (JSON.parse(await readFile(manifest, "utf8")) as { version: string }).version;
}

export async function peers(setup: BenchSetup, options: { jobs: number; concurrency: number; log: (message: string) => void }): Promise<PeersResult> {
  const { jobs, concurrency, log } = options;
  await setup.reset();
  const raw = await drainRaw(setup, jobs, 1, concurrency, setup.env());
  await setup.reset();
  const rawBullmqPerSecond = jobs / raw.seconds;
  const rawDrain = await drainRaw(setup, jobs, 1, concurrency, setup.env(), true);
  await setup.reset();
  const rawBullmqDrainPerSecond = jobs / rawDrain.seconds;
  log(`peers: raw BullMQ ${rawBullmqPerSecond.toFixed(0)}/s add + process, ${rawBullmqDrainPerSecond.toFixed(0)}/s the drain alone`);
  const pgBoss = await drainPgBoss(jobs);
  const pgBossPerSecond = jobs / pgBoss.seconds;
  log(`peers: pg-boss ${pgBossPerSecond.toFixed(0)}/s`);
  const graphile = await drainGraphile(jobs);
  const graphileBatchedPerSecond = jobs / graphile.seconds;
  log(`peers: graphile-worker ${graphileBatchedPerSecond.toFixed(0)}/s`);
  return {
    jobs,
    rawBullmqPerSecond,
    rawBullmqDrainPerSecond,
    pgBossPerSecond,
    graphileBatchedPerSecond,
    pgBossOverRaw: pgBossPerSecond / rawBullmqPerSecond,
    graphileOverRaw: graphileBatchedPerSecond / rawBullmqPerSecond,
    pgBossOverRawDrain: pgBossPerSecond / rawBullmqDrainPerSecond,
    graphileOverRawDrain: graphileBatchedPerSecond / rawBullmqDrainPerSecond,
    cpuMicrosPerJob: { rawBullmq: raw.cpu, rawBullmqDrain: rawDrain.cpu, pgBoss: pgBoss.cpu, graphile: graphile.cpu },
    settings: {
      rawBullmq: { concurrency },
      pgBoss: { version: await packageVersion("pg-boss"), ...PG_BOSS },
      graphile: { version: await packageVersion("graphile-worker"), ...GRAPHILE },
    },
  };
}
