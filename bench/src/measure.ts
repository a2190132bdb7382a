import { fork, type ChildProcess, type Serializable } from "node:child_process";
import path from "node:path";

export interface ChildReport {
  /** When the last job finished (ms since the epoch, sub-ms precision). */
  finishedAt: number;
  seconds?: number;
  maxRssMb: number;
  starts?: [string, number][];
}

/** Starts a measured child process with the given environment and command. */
export function startChild(env: Record<string, string>, command: Serializable): { child: ChildProcess; ready: Promise<void>; report: Promise<ChildReport> } {
  const child = fork(path.join(import.meta.dirname, "child.ts"), {
    execArgv: ["--import", "tsx", ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let readyResolve: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const report = new Promise<ChildReport>((resolve, reject) => {
    child.on("message", (message: { ready?: boolean } & ChildReport) => {
      if (message.ready) readyResolve();
      else resolve(message);
    });
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`bench child exited with ${code}`))));
  });
  child.send(command);
  return { child, ready, report };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
