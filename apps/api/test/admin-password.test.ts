import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, isLoopbackHost, loadConfig } from "@outbox/config";
import { freePort, redisUrl, waitFor } from "@outbox/testing";
import { adminCredentialsOf, isAdmin } from "../src/auth/admin-credentials.ts";
import { adminPassword, anotherApp, startApi, type ApiHarness } from "./helpers.ts";

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
const oldDevelopmentPassword = "outbox-admin";
const main = path.resolve(import.meta.dirname, "../src/main.ts");
const tsx = pathToFileURL(path.resolve(import.meta.dirname, "../../../node_modules/tsx/dist/loader.mjs")).href;
/** The environment of a process of the API without this test run's secrets. */
const inherited = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !["ADMIN_PASSWORD", "ENCRYPTION_KEY", "NODE_ENV"].includes(name)));

describe("the admin password", () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it.each(["127.0.0.1", "127.1.2.3", "localhost", "localhost.", "::1", "[::1]", "::ffff:127.0.0.1"])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(["127.0.0.1", "0.0.0.0", "::", "10.0.0.5", "api.example.com", "localhost.example.com"])("has no default: without ADMIN_PASSWORD the app on %s refuses to build, naming it", async (host) => {
    expect(() => adminCredentialsOf({ ADMIN_USER: "admin" })).toThrow(ConfigError);
    await expect(anotherApp(api, { HOST: host, ADMIN_PASSWORD: "" })).rejects.toThrow(/ADMIN_PASSWORD is not set/);
  });

  it("the old development password authenticates nothing: POST /api/tenants as admin:outbox-admin answers 401", async () => {
    const tenant = { name: "Ops", slug: "ops-made" };
    for (const user of ["admin", "root"]) {
      expect((await api.app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic(user, oldDevelopmentPassword) })).statusCode).toBe(401);
    }
    expect((await api.app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic("admin", adminPassword) })).statusCode).toBe(201);
  });

  it.each([{}, { HOST: "0.0.0.0" }, { NODE_ENV: "production", ENCRYPTION_KEY: "an-encryption-key-of-32-characters-at-least" }])("ADMIN_PASSWORD=outbox-admin set on purpose is refused (%o)", (settings) => {
    expect(() => loadConfig({ ...settings, ADMIN_PASSWORD: oldDevelopmentPassword })).toThrow(/ADMIN_PASSWORD holds a value published in this repository/);
  });

  it("with a strong ADMIN_PASSWORD the API listens anywhere", async () => {
    const app = await anotherApp(api, { HOST: "0.0.0.0", ADMIN_PASSWORD: "a-real-secret-password" });
    try {
      const tenant = { name: "Ops", slug: "ops-anywhere" };
      expect((await app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic("admin", oldDevelopmentPassword) })).statusCode).toBe(401);
      expect((await app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic("admin", "a-real-secret-password") })).statusCode).toBe(201);
    } finally {
      await app.close();
    }
  });

  it("compares the user and the password in full, whatever their lengths", () => {
    const credentials = adminCredentialsOf({ ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse" });
    expect(isAdmin(credentials, "admin", "correct-horse")).toBe(true);
    for (const [user, password] of [["admin", "correct-hors"], ["admin", "correct-horse!"], ["admi", "correct-horse"], ["", ""], ["root", "correct-horse"]] as const) {
      expect(isAdmin(credentials, user, password), `${user}:${password}`).toBe(false);
    }
  });

  it.each([
    ["NODE_ENV=test without ADMIN_PASSWORD", { NODE_ENV: "test" }, /ADMIN_PASSWORD is not set/],
    ["NODE_ENV=production with ADMIN_PASSWORD=outbox-admin", { NODE_ENV: "production", ADMIN_PASSWORD: oldDevelopmentPassword, ENCRYPTION_KEY: "an-encryption-key-of-32-characters-at-least" }, /ADMIN_PASSWORD holds a value published/],
    ["HOST=0.0.0.0 with a one-letter ADMIN_PASSWORD", { NODE_ENV: "test", HOST: "0.0.0.0", ADMIN_PASSWORD: "a".repeat(16) }, /ADMIN_PASSWORD is one short sequence repeated/],
  ])("the API process with %s exits 78 with one line naming ADMIN_PASSWORD, never its value", (_, settings: Record<string, string>, message) => {
    const cwd = mkdtempSync(path.join(tmpdir(), "outbox-api-"));
    try {
      const env = { ...inherited(), ...settings, DATABASE_URL: api.db.url, LOG_LEVEL: "silent" };
      const result = spawnSync(process.execPath, ["--import", tsx, main], { env, encoding: "utf8", cwd, timeout: 30_000 });
      expect(result.status).toBe(78);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      if (settings.ADMIN_PASSWORD) expect(result.stderr).not.toContain(settings.ADMIN_PASSWORD);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("a development start of the API process generates the password into .env, says where and not what; outbox-admin gets 401, the generated one 201", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "outbox-api-"));
    const port = await freePort();
    const env = { ...inherited(), NODE_ENV: "development", DATABASE_URL: api.db.url, REDIS_URL: redisUrl, QUEUE_PREFIX: `admin-password-${port}`, LOG_LEVEL: "info", PORT: String(port), WORKER_PORT: "0" };
    const child = spawn(process.execPath, ["--import", tsx, main], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, message: "the API's /healthz" });
      const file = path.join(cwd, ".env");
      const saved = parseEnv(readFileSync(file, "utf8"));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(output).toContain(`saved them in ${file}`);
      expect(output).not.toContain(saved.ADMIN_PASSWORD);
      expect(output).not.toContain(saved.ENCRYPTION_KEY);
      const create = (password: string) =>
        fetch(`${base}/api/tenants`, { method: "POST", headers: { "content-type": "application/json", ...basic("admin", password) }, body: JSON.stringify({ name: "Dev", slug: `dev-${port}` }) });
      expect((await create(oldDevelopmentPassword)).status).toBe(401);
      expect((await create(saved.ADMIN_PASSWORD!)).status).toBe(201);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).not.toContain(saved.ADMIN_PASSWORD);
    } finally {
      child.kill("SIGKILL");
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
