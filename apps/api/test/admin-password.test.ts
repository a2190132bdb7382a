import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@outbox/config";
import { adminCredentialsOf, developmentAdminPassword, isAdmin, isLoopbackHost } from "../src/auth/admin-credentials.ts";
import { anotherApp, startApi, type ApiHarness } from "./helpers.ts";

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });

describe("the development admin password", () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it.each(["127.0.0.1", "127.1.2.3", "localhost", "localhost.", "::1", "[::1]", "::ffff:127.0.0.1"])("is accepted while the API listens on loopback %s", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
    expect(adminCredentialsOf({ ADMIN_USER: "admin", HOST: host }).usesDevelopmentPassword).toBe(true);
  });

  it.each(["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "api.example.com", "localhost.example.com"])("refuses to start on %s without ADMIN_PASSWORD, naming it", async (host) => {
    expect(isLoopbackHost(host)).toBe(false);
    expect(() => adminCredentialsOf({ ADMIN_USER: "admin", HOST: host })).toThrow(ConfigError);
    await expect(anotherApp(api, { HOST: host })).rejects.toThrow(/ADMIN_PASSWORD is required when the API listens on/);
  });

  it("with ADMIN_PASSWORD set, listens anywhere and the development password no longer works", async () => {
    const app = await anotherApp(api, { HOST: "0.0.0.0", ADMIN_PASSWORD: "a-real-secret-password" });
    try {
      const tenant = { name: "Ops", slug: "ops-made" };
      expect((await app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic("admin", developmentAdminPassword) })).statusCode).toBe(401);
      expect((await app.inject({ method: "POST", url: "/api/tenants", payload: tenant, headers: basic("admin", "a-real-secret-password") })).statusCode).toBe(201);
    } finally {
      await app.close();
    }
  });

  it("compares the user and the password in full, whatever their lengths", () => {
    const credentials = adminCredentialsOf({ ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse", HOST: "0.0.0.0" });
    expect(isAdmin(credentials, "admin", "correct-horse")).toBe(true);
    for (const [user, password] of [["admin", "correct-hors"], ["admin", "correct-horse!"], ["admi", "correct-horse"], ["", ""], ["root", "correct-horse"]] as const) {
      expect(isAdmin(credentials, user, password), `${user}:${password}`).toBe(false);
    }
  });

  it("the API process exits with one line naming ADMIN_PASSWORD when it would listen beyond loopback without it", () => {
    const main = new URL("../src/main.ts", import.meta.url).pathname;
    const env: Record<string, string | undefined> = { ...process.env, HOST: "0.0.0.0", ADMIN_PASSWORD: "", NODE_ENV: "development", DATABASE_URL: api.db.url, LOG_LEVEL: "silent" };
    const result = spawnSync(process.execPath, ["--import", "tsx", main], { env, encoding: "utf8", cwd: new URL("..", import.meta.url).pathname, timeout: 30_000 });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/ADMIN_PASSWORD is required when the API listens on 0\.0\.0\.0/);
  });
});
