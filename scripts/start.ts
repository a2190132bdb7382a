// `pnpm start`: runs the API and the worker as two processes, forwards SIGTERM/SIGINT to both,
// and exits when both have exited. If one dies, the other is stopped too.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const apps = ["apps/api/src/main.ts", "apps/worker/src/main.ts"];

const children: ChildProcess[] = apps.map((entry) =>
  spawn(process.execPath, ["--import", "tsx", path.join(root, entry)], { stdio: "inherit", env: process.env }),
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
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}
process.on("SIGTERM", () => stopAll("SIGTERM"));
process.on("SIGINT", () => stopAll("SIGINT"));
