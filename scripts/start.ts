// `pnpm start` (after scripts/build.mjs): migrates the database (creating it if missing), then runs
// the API and the worker as two processes from their bundles, forwards SIGTERM/SIGINT to both, and
// exits when both have exited. If one dies, the other is stopped too.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const apps = ["apps/api/dist/main.js", "apps/worker/dist/main.js"];

const migration = spawnSync(process.execPath, ["--enable-source-maps", path.join(root, "packages/db/dist/migrate.js")], { stdio: "inherit" });
if (migration.status !== 0) process.exit(migration.status ?? 1);

const children: ChildProcess[] = apps.map((entry) =>
  // Own process groups: a terminal's Ctrl-C or a group kill reaches them once, through this launcher.
  spawn(process.execPath, ["--enable-source-maps", path.join(root, entry)], { stdio: "inherit", env: process.env, detached: true }),
);

let exitCode = 0;
let stopping = false;
const stopAll = (signal: NodeJS.Signals) => {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};

for (const child of children) {
  child.once("exit", (code, signal) => {
    if (code !== 0 && !(stopping && signal)) exitCode = code ?? 1;
    if (!stopping) stopAll("SIGTERM");
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
      console.log(`api and worker stopped (exit ${exitCode})`);
      process.exit(exitCode);
    }
  });
}
process.on("SIGTERM", () => stopAll("SIGTERM"));
process.on("SIGINT", () => stopAll("SIGINT"));

// pnpm exits on SIGTERM without passing it on; when the parent goes, stop as if it had.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) stopAll("SIGTERM");
}, 500).unref();
