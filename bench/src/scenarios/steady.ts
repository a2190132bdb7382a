import { randomUUID } from "node:crypto";
import pg from "pg";
import type { PrismaClient } from "@outbox/db";
import { now, percentile, startChild } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";

export interface LatencyResult {
  rate: number;
  seconds: number;
  events: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  lagP50Ms: number;
  lagMaxMs: number;
}

/** Samples the age of the oldest pending event every 250 ms until stopped. */
export function sampleLag(prisma: PrismaClient): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    void prisma.$queryRaw<{ age: number | null }[]>`
      SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS age FROM event_outbox WHERE status = 'pending'`.then(([row]) =>
      samples.push(row?.age ?? 0),
    );
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return [...samples].sort((a, b) => a - b);
    },
  };
}

/**
 * Events committed one transaction each, at a fixed rate, by a plain-SQL producer; the worker's
 * no-op handler notes when it starts each one. Latency = handler start − the producer's commit.
 * The first `warmupSeconds` run at the same rate but are not counted: the producer's connections,
 * the worker's prepared statements and the JIT warm up then, as after any deploy.
 */
export async function steadyLoad(setup: BenchSetup, rate: number, seconds: number, warmupSeconds = 3): Promise<LatencyResult> {
  await setup.reset();
  const worker = startChild(setup.env(), { run: "outbox", recordStarts: true });
  await worker.ready;
  const producer = new pg.Pool({ connectionString: setup.dbUrl, max: 16 });
  const commits = new Map<string, number>();
  const warmup = new Set<string>();
  let lag: ReturnType<typeof sampleLag> | undefined;
  const inFlight: Promise<unknown>[] = [];
  const started = Date.now();
  for (let tick = 0; tick < (warmupSeconds + seconds) * 100; tick++) {
    if (tick === warmupSeconds * 100) lag = sampleLag(setup.prisma);
    for (let i = 0; i < rate / 100; i++) {
      const id = randomUUID();
      if (tick < warmupSeconds * 100) warmup.add(id);
      const payload = { tenantId: id, name: "Steady", slug: `s-${id}`, createdAt: new Date().toISOString() };
      inFlight.push(
        producer
          .query("INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload) VALUES ($1::uuid, 'TenantCreated', 'tenant', $1::text, $2)", [id, payload])
          .then(() => commits.set(id, now())),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (tick + 1) * 10 - Date.now())));
  }
  await Promise.all(inFlight);
  await producer.end();
  while (worker.done() < commits.size) await new Promise((resolve) => setTimeout(resolve, 50));
  const lags = lag!.stop();
  worker.send({ stop: true });
  const { starts } = await worker.stopped;
  const latencies = starts.filter(([id]) => !warmup.has(id)).map(([id, at]) => at - commits.get(id)!).sort((a, b) => a - b);
  return {
    rate,
    seconds,
    events: latencies.length,
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95),
    latencyP99Ms: percentile(latencies, 99),
    lagP50Ms: percentile(lags, 50),
    lagMaxMs: lags.at(-1) ?? 0,
  };
}
