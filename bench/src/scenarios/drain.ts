import { cpuPerEvent, sampleCpu, type CpuSample } from "../cpu.ts";
import { startChild, whenTotalReaches, now } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";

export type HandlerKind = "noop" | "domain";
/** Where the handlers' transactions run: the engine's pool (`sql`) or the shop's Prisma client (startWorker's `prisma`). */
export type TransactionPath = "pool" | "prisma";

export interface DrainResult {
  workers: number;
  events: number;
  handlers: HandlerKind;
  transactions: TransactionPath;
  rawPerSecond: number;
  outboxPerSecond: number;
  ratio: number;
  outboxPeakRssMb: number;
  outboxIdleRssMb: number;
  rawPeakRssMb: number;
  /** CPU microseconds per event of the worker process(es), Postgres and Redis while draining; raw BullMQ's (its process and Redis) beside. */
  cpuMicrosPerEvent: CpuSample;
  rawCpuMicrosPerEvent: CpuSample;
  /** Processor batches committed, events per batch and statements per batch (every statement of the worker's pool while draining). */
  batches: number;
  eventsPerBatch: number;
  statementsPerBatch: number;
}

/**
 * Raw BullMQ: each of `workers` processes adds its share of jobs and processes the queue. With
 * `prefill`, the jobs are all added before the clock starts and only the drain is timed.
 */
export async function drainRaw(setup: BenchSetup, events: number, workers: number, concurrency: number, env: Record<string, string>, prefill = false) {
  const share = Math.ceil(events / workers);
  const children = Array.from({ length: workers }, (_, i) =>
    startChild(env, {
      run: "raw",
      share: Math.min(share, events - i * share),
      offset: i * share,
      concurrency,
      // On a Redis Cluster a queue's keys must share a slot, as the outbox's own queues do.
      prefix: env.REDIS_CLUSTER_NODES ? `{${setup.prefix}-raw}` : `${setup.prefix}-raw`,
      prefill,
    }),
  );
  await Promise.all(children.map((c) => c.ready));
  const finished = whenTotalReaches(children, events);
  const pids = children.map((c) => c.child.pid!);
  const cpuBefore = sampleCpu(pids);
  const started = now();
  for (const child of children) child.send({ go: true });
  const seconds = ((await finished) - started) / 1000;
  const cpu = cpuPerEvent(cpuBefore, sampleCpu(pids), events);
  for (const child of children) child.send({ stop: true });
  const reports = await Promise.all(children.map((c) => c.stopped));
  return { seconds, peakRssMb: Math.max(...reports.map((r) => r.maxRssMb)), cpu };
}

/**
 * The outbox: `workers` idle worker processes; the whole backlog commits at once and wakes them.
 * With the domain handlers, the entities the events name are seeded first (not timed).
 */
async function drainOutbox(setup: BenchSetup, events: number, workers: number, env: Record<string, string>, handlers: HandlerKind, transactions: TransactionPath) {
  const children = Array.from({ length: workers }, () => startChild(env, { run: "outbox", handlers, transactions }));
  await Promise.all(children.map((c) => c.ready));
  const finished = whenTotalReaches(children, events);
  if (handlers === "domain") await setup.insertDomainBacklog(events);
  else await setup.insertBacklog(events);
  const committed = now();
  const pids = children.map((c) => c.child.pid!);
  const cpuBefore = sampleCpu(pids);
  const seconds = ((await finished) - committed) / 1000;
  const cpu = cpuPerEvent(cpuBefore, sampleCpu(pids), events);
  for (const child of children) child.send({ stop: true });
  const reports = await Promise.all(children.map((c) => c.stopped));
  const processed = await setup.prisma.eventOutbox.count({ where: { status: "processed" } });
  if (processed !== events) throw new Error(`only ${processed} of ${events} rows are processed`);
  const batches = reports.reduce((sum, r) => sum + r.batches, 0);
  return {
    seconds,
    peakRssMb: Math.max(...reports.map((r) => r.maxRssMb)),
    idleRssMb: Math.max(...reports.map((r) => r.idleRssMb)),
    cpu,
    batches,
    statements: reports.reduce((sum, r) => sum + r.statements, 0),
  };
}

export async function drain(
  setup: BenchSetup,
  options: { events: number; workers: number; concurrency: number; env?: Record<string, string>; handlers?: HandlerKind; transactions?: TransactionPath },
): Promise<DrainResult> {
  const { events, workers, concurrency, handlers = "noop", transactions = "pool" } = options;
  const env = setup.env(options.env);
  await setup.reset();
  const raw = await drainRaw(setup, events, workers, concurrency, env);
  await setup.reset();
  const outbox = await drainOutbox(setup, events, workers, env, handlers, transactions);
  return {
    workers,
    events,
    handlers,
    transactions,
    rawPerSecond: events / raw.seconds,
    outboxPerSecond: events / outbox.seconds,
    ratio: raw.seconds / outbox.seconds,
    outboxPeakRssMb: outbox.peakRssMb,
    outboxIdleRssMb: outbox.idleRssMb,
    rawPeakRssMb: raw.peakRssMb,
    cpuMicrosPerEvent: outbox.cpu,
    rawCpuMicrosPerEvent: raw.cpu,
    batches: outbox.batches,
    eventsPerBatch: events / outbox.batches,
    statementsPerBatch: outbox.statements / outbox.batches,
  };
}
