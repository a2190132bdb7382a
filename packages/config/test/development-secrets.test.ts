import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDevelopmentSecrets, envFileValues, loadConfig } from "../src/index.ts";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), "outbox-env-"));
  folders.push(folder);
  return folder;
}

const savedIn = (file: string) => envFileValues(file);
const modeOf = (file: string) => statSync(file).mode & 0o777;

describe("ensureDevelopmentSecrets", () => {
  it("generates strong ADMIN_PASSWORD and ENCRYPTION_KEY into a new .env of mode 0600, then reuses them", () => {
    const file = path.join(tempFolder(), ".env");
    const first: Record<string, string | undefined> = {};
    expect(ensureDevelopmentSecrets(file, first)).toEqual(["ADMIN_PASSWORD", "ENCRYPTION_KEY"]);
    expect(modeOf(file)).toBe(0o600);
    expect(savedIn(file)).toEqual({ ADMIN_PASSWORD: first.ADMIN_PASSWORD, ENCRYPTION_KEY: first.ENCRYPTION_KEY });
    // Strong enough for production and a public listener.
    expect(() => loadConfig({ NODE_ENV: "production", HOST: "0.0.0.0", ADMIN_PASSWORD: first.ADMIN_PASSWORD, ENCRYPTION_KEY: first.ENCRYPTION_KEY })).not.toThrow();

    const before = readFileSync(file, "utf8");
    const second: Record<string, string | undefined> = {};
    expect(ensureDevelopmentSecrets(file, second)).toEqual([]);
    expect(second).toEqual(first);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("keeps a developer's own .env lines, fills an empty ADMIN_PASSWORD= (as copied from .env.example) and makes the file 0600", () => {
    const file = path.join(tempFolder(), ".env");
    writeFileSync(file, "PORT=4000\nADMIN_PASSWORD=\nENCRYPTION_KEY=my-own-key-of-at-least-32-characters", { mode: 0o644 });
    const env: Record<string, string | undefined> = { ENCRYPTION_KEY: "my-own-key-of-at-least-32-characters" };
    expect(ensureDevelopmentSecrets(file, env)).toEqual(["ADMIN_PASSWORD"]);
    expect(env.ADMIN_PASSWORD).toMatch(/^[\w-]{32}$/);
    expect(savedIn(file)).toMatchObject({ PORT: "4000", ADMIN_PASSWORD: env.ADMIN_PASSWORD, ENCRYPTION_KEY: "my-own-key-of-at-least-32-characters" });
    expect(modeOf(file)).toBe(0o600);
  });

  it("writes nothing when both are set", () => {
    const file = path.join(tempFolder(), ".env");
    expect(ensureDevelopmentSecrets(file, { ADMIN_PASSWORD: "set-by-me-0123", ENCRYPTION_KEY: "x".repeat(32) })).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });
});

const entry = pathToFileURL(path.resolve(import.meta.dirname, "../src/index.ts")).href;
const tsx = pathToFileURL(path.resolve(import.meta.dirname, "../../../node_modules/tsx/dist/loader.mjs")).href;

/** A process entry point in `cwd`: loadConfigOrExit, then prints a digest of the admin password it got. */
function start(cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import(${JSON.stringify(entry)}).then((m) => { const c = m.loadConfigOrExit(); process.stdout.write(require("node:crypto").createHash("sha256").update(c.ADMIN_PASSWORD ?? "").digest("hex")); })`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !["ADMIN_PASSWORD", "ENCRYPTION_KEY", "NODE_ENV"].includes(name)));
  const child = spawn(process.execPath, ["--import", tsx, "-e", script], { cwd, env: { ...clean, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

const digestOf = (value: string) => import("node:crypto").then(({ createHash }) => createHash("sha256").update(value).digest("hex"));

describe("a development start as a process (loadConfigOrExit in its working directory)", () => {
  it("the first start writes .env (0600) and says where, once, never the value; a second start reuses it silently", async () => {
    const cwd = tempFolder();
    const first = await start(cwd, {});
    expect(first.code).toBe(0);
    const file = path.join(cwd, ".env");
    const saved = savedIn(file);
    expect(modeOf(file)).toBe(0o600);
    expect(first.stdout).toBe(await digestOf(saved.ADMIN_PASSWORD!));
    expect(first.stderr.trim().split("\n")).toHaveLength(1);
    expect(first.stderr).toContain(`ADMIN_PASSWORD and ENCRYPTION_KEY were not set: generated random values and saved them in ${file}`);
    expect(first.stderr).not.toContain(saved.ADMIN_PASSWORD);
    expect(first.stderr).not.toContain(saved.ENCRYPTION_KEY);

    const second = await start(cwd, {});
    expect(second).toEqual({ code: 0, stdout: first.stdout, stderr: "" });
    expect(savedIn(file)).toEqual(saved);
  });

  it("processes started at once (pnpm start's API and worker) share one generated password", async () => {
    const cwd = tempFolder();
    const starts = await Promise.all([1, 2, 3, 4].map(() => start(cwd, {})));
    expect(starts.map((result) => result.code)).toEqual([0, 0, 0, 0]);
    expect(new Set(starts.map((result) => result.stdout)).size).toBe(1);
    expect(starts.filter((result) => result.stderr.includes("were not set"))).toHaveLength(1);
    expect(readFileSync(path.join(cwd, ".env"), "utf8").match(/^ADMIN_PASSWORD=/gm)).toHaveLength(1);
    expect(existsSync(path.join(cwd, ".env.lock"))).toBe(false);
  });

  it.each(["test", "production"])("with NODE_ENV=%s generates nothing", async (nodeEnv) => {
    const cwd = tempFolder();
    const result = await start(cwd, { NODE_ENV: nodeEnv });
    expect(existsSync(path.join(cwd, ".env"))).toBe(false);
    if (nodeEnv === "production") expect(result.stderr).toMatch(/ADMIN_PASSWORD is required when NODE_ENV=production/);
    else expect(result.stdout).toBe(await digestOf(""));
  });
});

describe("a development start where .env cannot be written", () => {
  it("stops with one line naming the variables to set", async () => {
    const cwd = tempFolder();
    symlinkSync(path.join(cwd, "missing-folder", ".env"), path.join(cwd, ".env")); // a link to nowhere: nothing to read, nowhere to write
    const result = await start(cwd, {});
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/ADMIN_PASSWORD and ENCRYPTION_KEY are not set and .*\.env could not hold generated ones \(E[A-Z]+\): set them/);
  });
});
