// `pnpm build`, and the first step of `pnpm start`, `pnpm outbox` and `pnpm db:migrate`: bundles
// each process's entry point into plain JavaScript (scripts/bundle.mjs), so production runs no
// TypeScript loader. Skips the work when every bundle is newer than every source file; `--force`
// builds anyway.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

const bundles = [
  { entry: "apps/api/src/main.ts", out: "apps/api/dist/main.js", owner: "apps/api" },
  { entry: "apps/worker/src/main.ts", out: "apps/worker/dist/main.js", owner: "apps/worker" },
  { entry: "apps/cli/src/main.ts", out: "apps/cli/dist/main.js", owner: "apps/cli" },
  { entry: "packages/db/src/bin/migrate.ts", out: "packages/db/dist/migrate.js", owner: "packages/db" },
  { entry: "scripts/start.ts", out: "dist/start.js", owner: "." },
];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", "dist", "test"].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.(ts|json|mjs)$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function upToDate() {
  const sources = Math.max(...["apps", "packages", "scripts"].map((dir) => newestSource(path.join(root, dir))), statSync(path.join(root, "pnpm-lock.yaml")).mtimeMs);
  return bundles.every(({ out }) => existsSync(path.join(root, out)) && statSync(path.join(root, out)).mtimeMs > sources);
}

// Imported by apps/cli/bin/outbox.mjs too: `--force` counts only when this file is the program.
const forced = process.argv[1] === import.meta.filename && process.argv.includes("--force");
if (forced || !upToDate()) {
  // esbuild is loaded only to build: the check above is all an up-to-date start costs.
  const { bundle } = await import("./bundle.mjs");
  const started = Date.now();
  const problems = [];
  for (const target of bundles) problems.push(...(await bundle(target).catch(() => process.exit(1)))); // esbuild printed what failed
  if (problems.length > 0) {
    console.error(`build: ${problems.join("\n")}`);
    process.exit(1);
  }
  console.error(`build: ${bundles.length} bundles in ${Date.now() - started} ms`);
}
