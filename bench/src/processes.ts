import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "@outbox/testing";

export const root = path.resolve(import.meta.dirname, "../..");

/** Runs an app from its bundle, as `pnpm start` does; with BENCH_CPU_PROF=dir, under --cpu-prof. */
export function startApp(bundlePath: string, env: Record<string, string>): ChildProcess {
  const profile = process.env.BENCH_CPU_PROF;
  const flags = ["--enable-source-maps", ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [])];
  return spawn(process.execPath, [...flags, path.join(root, bundlePath)], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

/** SIGTERM, and resolves when the process has exited. */
export async function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => fetch(url).then((r) => r.ok, () => false), { timeoutMs, intervalMs: 100, message: `${url} to become ready` });
}
