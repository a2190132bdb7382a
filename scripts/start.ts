// `pnpm start` (after scripts/build.mjs): migrates the database (creating it if missing), then runs
// the API and the worker as two processes from their bundles and exits when both have exited. If
// one dies, the other is stopped too.
//
// Stop signals follow outbox-relay/shutdown's rule, here as in the API and the worker: the first
// SIGINT/SIGTERM is passed on to both once (a graceful stop; exit 0 when both stop cleanly); a
// second within 2 s is the same request and is not passed on (a terminal's Ctrl-C reaches this
// process and pnpm, which sends it once more); a third, or one later than that, kills both (SIGKILL).
// The children run in process groups of their own, so a signal to the terminal's group reaches
// them only through here, once.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { onStopSignals } from "outbox-relay/shutdown";

const root = path.resolve(import.meta.dirname, "..");
const apps = ["apps/api/dist/main.js", "apps/worker/dist/main.js"];

// The migration is the first process to load the config: on a development start without
// ADMIN_PASSWORD / ENCRYPTION_KEY it generates them into .env (@outbox/config's loadConfigOrExit),
// before the API and the worker start and read the same file.
// The shop's Prisma migrations, then the engine's own (baselined on the tables the first ones made).
const migrations = [["packages/db/dist/migrate.js"], ["apps/cli/dist/main.js", "migrate"]] as const;
for (const [entry, ...args] of migrations) {
  const migration = spawnSync(process.execPath, ["--enable-source-maps", path.join(root, entry), ...args], { stdio: "inherit" });
  if (migration.status !== 0) process.exit(migration.status ?? 1);
}

const children: ChildProcess[] = apps.map((entry) =>
  spawn(process.execPath, ["--enable-source-maps", path.join(root, entry)], { stdio: "inherit", env: process.env, detached: true }),
);

let exitCode = 0;
let stopping = false;
const running = () => children.filter((child) => child.exitCode === null && child.signalCode === null);
const stopAll = (signal: NodeJS.Signals) => {
  stopping = true;
  for (const child of running()) child.kill(signal);
};

for (const child of children) {
  child.once("exit", (code, signal) => {
    if (code !== 0 && !(stopping && signal)) exitCode = code ?? 1;
    if (!stopping) stopAll("SIGTERM");
    if (running().length === 0) {
      console.log(`api and worker stopped (exit ${exitCode})`);
      process.exit(exitCode);
    }
  });
}
onStopSignals({
  graceful: (signal) => stopAll(signal),
  repeated: (signal) => console.error(`${signal} again: already stopping (a third signal, or one 2 s from now, kills the API and the worker)`),
  force: (signal) => {
    console.error(`${signal} again: killing the API and the worker`);
    exitCode = 1;
    for (const child of running()) child.kill("SIGKILL");
  },
});

// pnpm exits on SIGTERM without passing it on; when the parent goes, stop as if it had.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) stopAll("SIGTERM");
}, 500).unref();
