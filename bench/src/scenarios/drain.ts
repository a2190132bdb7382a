import { startChild, whenTotalReaches, now } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";

export interface DrainResult {
  workers: number;
  events: number;
  rawPerSecond: number;
  outboxPerSecond: number;
  ratio: number;
  outboxPeakRssMb: number;
  rawPeakRssMb: number;
}

/** Raw BullMQ: each of `workers` processes adds its share of jobs and processes the queue. */
async function drainRaw(setup: BenchSetup, events: number, workers: number, concurrency: number, env: Record<string, string>) {
  const share = Math.ceil(events / workers);
  const children = Array.from({ length: workers }, (_, i) =>
    startChild(env, {
      run: "raw",
      share: Math.min(share, events - i * share),
      offset: i * share,
      concurrency,
      // On a Redis Cluster a queue's keys must share a slot, as the outbox's own queues do.
      prefix: env.REDIS_CLUSTER_NODES ? `{${setup.prefix}-raw}` : `${setup.prefix}-raw`,
    }),
  );
  await Promise.all(children.map((c) => c.ready));
  const finished = whenTotalReaches(children, events);
  const started = now();
  for (const child of children) child.send({ go: true });
  const seconds = ((await finished) - started) / 1000;
  for (const child of children) child.send({ stop: true });
  const reports = await Promise.all(children.map((c) => c.stopped));
  return { seconds, peakRssMb: Math.max(...reports.map((r) => r.maxRssMb)) };
}

/** The outbox: `workers` idle worker processes; the whole backlog commits at once and wakes them. */
async function drainOutbox(setup: BenchSetup, events: number, workers: number, env: Record<string, string>) {
  const children = Array.from({ length: workers }, () => startChild(env, { run: "outbox" }));
  await Promise.all(children.map((c) => c.ready));
  const finished = whenTotalReaches(children, events);
  await setup.insertBacklog(events);
  const committed = now();
  const seconds = ((await finished) - committed) / 1000;
  for (const child of children) child.send({ stop: true });
  const reports = await Promise.all(children.map((c) => c.stopped));
  const processed = await setup.prisma.eventOutbox.count({ where: { status: "processed" } });
  if (processed !== events) throw new Error(`only ${processed} of ${events} rows are processed`);
  return { seconds, peakRssMb: Math.max(...reports.map((r) => r.maxRssMb)) };
}

export async function drain(setup: BenchSetup, options: { events: number; workers: number; concurrency: number; env?: Record<string, string> }): Promise<DrainResult> {
  const { events, workers, concurrency } = options;
  const env = setup.env(options.env);
  await setup.reset();
  const raw = await drainRaw(setup, events, workers, concurrency, env);
  await setup.reset();
  const outbox = await drainOutbox(setup, events, workers, env);
  return {
    workers,
    events,
    rawPerSecond: events / raw.seconds,
    outboxPerSecond: events / outbox.seconds,
    ratio: raw.seconds / outbox.seconds,
    outboxPeakRssMb: outbox.peakRssMb,
    rawPeakRssMb: raw.peakRssMb,
  };
}
