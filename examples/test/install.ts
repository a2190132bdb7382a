// What the example tests share: the package packed into its one tarball (`pnpm pack:engine`), and an
// example copied into an empty project outside the workspace and installed there with npm, as a
// user installs it (outbox-relay from the tarball, everything else from the registry).
import { execFile } from "node:child_process";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

export const root = path.resolve(import.meta.dirname, "../..");

/** As in a user's shell: nothing of this workspace's pnpm run, nor of the test's own settings. */
export const userEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key) && !["NODE_ENV", "LOG_LEVEL"].includes(key)));

interface ShOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command; a failure's message carries its output (tsc and npm report on stdout). */
export async function run(command: string, args: string[], options: ShOptions): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** Runs a command and returns its standard output. */
export async function sh(command: string, args: string[], options: ShOptions): Promise<string> {
  return (await run(command, args, options)).stdout;
}

/** Every file under `dir`, relative to it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

export interface Packed {
  name: string;
  version: string;
  tarball: string;
}

/** Builds outbox-relay and packs it into `directory` with scripts/pack.mjs. */
export async function packEngine(directory: string): Promise<Packed> {
  return JSON.parse(await sh(process.execPath, [path.join(root, "scripts", "pack.mjs"), directory], { cwd: root })) as Packed;
}

/**
 * Copies examples/<example> into `project` (without its node_modules or generated code), points its
 * outbox-relay dependency at the tarball and runs `npm install` there. Returns what npm printed,
 * install scripts' banners included (--foreground-scripts).
 */
export async function installExample(example: string, project: string, packed: Packed): Promise<string> {
  const source = path.join(root, "examples", example);
  cpSync(source, project, {
    recursive: true,
    filter: (file) => !/^(node_modules|src[/\\]generated)([/\\]|$)/.test(path.relative(source, file)),
  });
  const manifestFile = path.join(project, "package.json");
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { dependencies: Record<string, string> };
  manifest.dependencies["outbox-relay"] = `file:${packed.tarball}`;
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  const { stdout, stderr } = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--foreground-scripts"], { cwd: project, env: userEnv });
  return `${stdout}\n${stderr}`;
}

