import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { bundle } from "../../scripts/bundle.mjs";
import type { ChildCommand, ChildMessage, ChildReport, ParentMessage } from "./child.ts";

export const now = () => performance.timeOrigin + performance.now();

export interface MeasuredChild {
  child: ChildProcess;
  ready: Promise<void>;
  /** Jobs this child has finished, as last reported. */
  done(): number;
  /** Resolves the first time the reported total of `children` reaches `target`, with that moment. */
  send(message: ParentMessage): void;
  stopped: Promise<ChildReport>;
  onProgress(listener: () => void): void;
  lastReportAt(): number;
}

const childBundle = path.resolve(import.meta.dirname, "../dist/child.js");

/** Bundles the measured child (plain JavaScript, as production runs the worker). Once per bench run. */
export async function buildChild(): Promise<void> {
  const problems = await bundle({ entry: "bench/src/child.ts", out: "bench/dist/child.js", owner: "bench" });
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

/** Starts a measured child process with the given environment and command. */
export function startChild(env: Record<string, string>, command: ChildCommand): MeasuredChild {
  const profile = process.env.BENCH_CPU_PROF;
  const child = fork(childBundle, {
    execArgv: ["--enable-source-maps", ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [])],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let done = 0;
  let at = 0;
  const listeners: (() => void)[] = [];
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const stopped = new Promise<ChildReport>((resolve, reject) => {
    child.on("message", (message: ChildMessage) => {
      if ("ready" in message) markReady();
      else if ("done" in message) {
        done = message.done;
        at = message.at;
        for (const listener of listeners) listener();
      } else resolve(message);
    });
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`bench child exited with ${code}`))));
  });
  child.send(command);
  return { child, ready, stopped, done: () => done, lastReportAt: () => at, send: (message) => child.send(message), onProgress: (l) => listeners.push(l) };
}

/** When the children's reported total first reaches the target: the latest report time among them. */
export function whenTotalReaches(children: MeasuredChild[], target: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      if (children.reduce((sum, c) => sum + c.done(), 0) >= target) resolve(Math.max(...children.map((c) => c.lastReportAt())));
    };
    for (const child of children) child.onProgress(check);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
