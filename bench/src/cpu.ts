import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds used so far by the measured worker processes, by Postgres (every backend, the exited ones too) and by Redis. */
export interface CpuSample {
  worker: number;
  postgres: number;
  redis: number;
}

/** Linux' clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's times. */
const ticksPerSecond = 100;

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, and cutime + cstime (children that exited and were waited for), in seconds. */
  own: number;
  children: number;
}

function readStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
  // Fields after the command: state ppid … utime(14) stime(15) cutime(16) cstime(17), counted from 1 with pid and comm.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const at = (field: number) => Number(fields[field - 3]);
  return { pid: Number(pid), comm, ppid: at(4), own: (at(14) + at(15)) / ticksPerSecond, children: (at(16) + at(17)) / ticksPerSecond };
}

/**
 * Reads /proc: the workers' own time; every `postgres` process's, plus the postmaster's exited
 * children (backends that closed); every `redis-server` process's. Postgres and Redis are the
 * machine's, so the sample includes anything else they serve meanwhile (nothing, in a bench run).
 */
export function sampleCpu(workerPids: readonly number[]): CpuSample {
  const all = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(readStat).filter((stat) => stat !== undefined);
  const postgres = all.filter((stat) => stat.comm === "postgres");
  const postmasters = postgres.filter((stat) => !postgres.some((parent) => parent.pid === stat.ppid));
  const sum = (stats: ProcStat[]) => stats.reduce((total, stat) => total + stat.own, 0);
  return {
    worker: sum(workerPids.map((pid) => readStat(pid)).filter((stat) => stat !== undefined)),
    postgres: sum(postgres) + postmasters.reduce((total, stat) => total + stat.children, 0),
    redis: sum(all.filter((stat) => stat.comm === "redis-server")),
  };
}

/** CPU microseconds per event between two samples. */
export function cpuPerEvent(before: CpuSample, after: CpuSample, events: number): CpuSample {
  const per = (key: keyof CpuSample) => Math.round(((after[key] - before[key]) * 1e6) / events);
  return { worker: per("worker"), postgres: per("postgres"), redis: per("redis") };
}
