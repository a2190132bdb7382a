import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import type pg from "pg";

export interface ProcessSample {
  rssMb: number;
  heapMb: number;
}

export interface Sample {
  /** Seconds since the soak started. */
  t: number;
  processes: Record<string, ProcessSample | null>;
  redis: { usedMemoryMb: number; keys: number } | null;
  outbox: { rows: number; deadTuples: number; sizeMb: number } | null;
  /** Deadlocks Postgres has detected in the soak's database so far (each reruns a commit group). */
  deadlocks: number | null;
  /** Age of the oldest event not yet processed. */
  lagMs: number | null;
  /** Events handled per second since the last sample (every worker's events_handled_total). */
  handledPerSecond: number;
  /** Orders the API accepted per second since the last sample. */
  ordersPerSecond: number;
  fault?: string;
}

export interface Watched {
  name: string;
  pid: () => number | undefined;
  metricsUrl: string;
  /** The Authorization header that may read /metrics (METRICS_TOKEN). */
  metricsAuthorization: string;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function rssMbOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

async function metricsOf(url: string, authorization: string): Promise<string | undefined> {
  return fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5000) }).then((r) => (r.ok ? r.text() : undefined), () => undefined);
}

function metric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** Reads what a soak watches; each part is null when its store is down at that moment (a fault). */
export class Sampler {
  private lastHandled = new Map<string, number>();
  private lastAt = Date.now();
  private lastOrders = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly watched: Watched[],
    private readonly db: pg.Pool,
    private readonly redis: Redis,
  ) {}

  async sample(ordersSoFar: number): Promise<Sample> {
    const now = Date.now();
    const seconds = (now - this.lastAt) / 1000;
    const processes: Sample["processes"] = {};
    let handled = 0;
    for (const process of this.watched) {
      const pid = process.pid();
      const rssMb = pid === undefined ? undefined : rssMbOf(pid);
      const text = await metricsOf(process.metricsUrl, process.metricsAuthorization);
      processes[process.name] = rssMb === undefined || !text ? null : { rssMb, heapMb: mb(metric(text, "nodejs_heap_size_used_bytes")) };
      if (text?.includes("events_handled_total")) {
        // A restarted process starts its counter again from 0.
        const total = metric(text, "events_handled_total");
        const before = this.lastHandled.get(process.name) ?? 0;
        handled += total >= before ? total - before : total;
        this.lastHandled.set(process.name, total);
      }
    }
    const sample: Sample = {
      t: Math.round((now - this.startedAt) / 1000),
      processes,
      redis: await this.redisFigures(),
      ...(await this.postgresFigures()),
      handledPerSecond: Math.round(handled / seconds),
      ordersPerSecond: Math.round((ordersSoFar - this.lastOrders) / seconds),
    };
    this.lastAt = now;
    this.lastOrders = ordersSoFar;
    return sample;
  }

  private async redisFigures(): Promise<Sample["redis"]> {
    try {
      const info = await this.redis.info("memory");
      const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      return { usedMemoryMb: mb(usedMemory), keys: await this.redis.dbsize() };
    } catch {
      return null;
    }
  }

  private async postgresFigures(): Promise<Pick<Sample, "outbox" | "lagMs" | "deadlocks">> {
    try {
      const { rows } = await this.db.query<{ rows: string; dead: string; size: string; lag: number | null; deadlocks: string }>(`
        SELECT s.n_live_tup AS rows, s.n_dead_tup AS dead, pg_total_relation_size('event_outbox') AS size,
          (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()) AS deadlocks,
          (SELECT extract(epoch FROM clock_timestamp() - min(created_at)) * 1000 FROM event_outbox WHERE status = 'pending') AS lag
        FROM pg_stat_user_tables s WHERE s.relname = 'event_outbox'`);
      const row = rows[0]!;
      return {
        outbox: { rows: Number(row.rows), deadTuples: Number(row.dead), sizeMb: mb(Number(row.size)) },
        lagMs: row.lag === null ? 0 : Math.round(row.lag),
        deadlocks: Number(row.deadlocks),
      };
    } catch {
      return { outbox: null, lagMs: null, deadlocks: null };
    }
  }
}

/** Growth of a series after the warm-up: last minus first, and the least-squares slope in MB per hour. */
export function growthAfter(samples: { t: number; value: number }[], warmupS: number): { fromMb: number; toMb: number; growthMb: number; slopeMbPerHour: number } | undefined {
  const points = samples.filter((s) => s.t >= warmupS);
  if (points.length < 2) return undefined;
  const n = points.length;
  const meanT = points.reduce((a, p) => a + p.t, 0) / n;
  const meanV = points.reduce((a, p) => a + p.value, 0) / n;
  const slope = points.reduce((a, p) => a + (p.t - meanT) * (p.value - meanV), 0) / points.reduce((a, p) => a + (p.t - meanT) ** 2, 0);
  // The fitted line's rise over the window: one high or low sample at either end does not decide it.
  const span = points.at(-1)!.t - points[0]!.t;
  return { fromMb: points[0]!.value, toMb: points.at(-1)!.value, growthMb: Math.round(slope * span * 10) / 10, slopeMbPerHour: Math.round(slope * 3600 * 10) / 10 };
}
