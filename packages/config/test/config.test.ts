import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.ts";

function problemsOf(source: Record<string, string>): string {
  try {
    loadConfig(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("fills every default from an empty environment", () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe("postgresql://postgres:postgres@localhost:5432/outbox");
    expect(config.REDIS_URL).toBe("redis://localhost:6379");
    expect(config.PORT).toBe(3002);
    expect(config.SCAN_CRON).toBe("*/5 * * * * *");
    expect(config.STATS_INTERVAL_MS).toBe(30_000);
    expect(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false);
  });

  it("coerces numbers and booleans", () => {
    const config = loadConfig({ PORT: "8080", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", WORKER_CONCURRENCY: "4" });
    expect(config).toMatchObject({ PORT: 8080, WEBHOOK_ALLOW_PRIVATE_NETWORKS: true, WORKER_CONCURRENCY: 4 });
  });

  it.each([
    [{ PORT: "abc" }, /^Invalid configuration: PORT /],
    [{ PORT: "70000" }, /PORT .*65535/],
    [{ DATABASE_URL: "mysql://x/y" }, /DATABASE_URL must be a postgresql:\/\/ URL/],
    [{ REDIS_URL: "not a url" }, /REDIS_URL must be a redis:\/\//],
    [{ WORKER_CONCURRENCY: "0" }, /WORKER_CONCURRENCY/],
    [{ SCAN_CRON: "every five seconds" }, /SCAN_CRON must be a cron expression/],
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "maybe" }, /WEBHOOK_ALLOW_PRIVATE_NETWORKS/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    [{ PORT: "3003" }, /WORKER_PORT must differ from PORT/],
  ])("rejects %o naming the variable", (source, message) => {
    expect(problemsOf(source)).toMatch(message);
  });

  it("requires ENCRYPTION_KEY and ADMIN_PASSWORD in production", () => {
    const message = problemsOf({ NODE_ENV: "production" });
    expect(message).toMatch(/ENCRYPTION_KEY is required when NODE_ENV=production/);
    expect(message).toMatch(/ADMIN_PASSWORD is required when NODE_ENV=production/);
  });

  it("takes API_TRUST_PROXY as addresses and CIDRs, and refuses anything else naming it", () => {
    expect(loadConfig({ API_TRUST_PROXY: "127.0.0.1, 10.0.0.0/8,::1,fd00::/8" }).API_TRUST_PROXY).toEqual(["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]);
    expect(loadConfig({}).API_TRUST_PROXY).toBeUndefined();
    for (const bad of ["true", "proxy.internal", "10.0.0.0/33", "::1/129", "10.0.0.1/8/8", "10.0.0.1,"]) {
      expect(() => loadConfig({ API_TRUST_PROXY: bad }), bad).toThrow(/API_TRUST_PROXY/);
    }
  });

  it("takes ENCRYPTION_KEY_PREVIOUS as a comma-separated list of keys, refusing a short one by its position", () => {
    const current = "c".repeat(32) + "-current";
    const [older, oldest] = ["o".repeat(32) + "-older", "p".repeat(40)];
    expect(loadConfig({ ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: `${older}, ${oldest}` }).ENCRYPTION_KEY_PREVIOUS).toEqual([older, oldest]);
    expect(loadConfig({ ENCRYPTION_KEY: current }).ENCRYPTION_KEY_PREVIOUS).toBeUndefined();
    const message = problemsOf({ ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: `${older},too-short-a-key` });
    expect(message).toBe("Invalid configuration: ENCRYPTION_KEY_PREVIOUS key 2 of 2 must be at least 32 characters (a comma-separated list of keys)");
    expect(problemsOf({ ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: `${older},` })).toMatch(/ENCRYPTION_KEY_PREVIOUS key 2 of 2 must be at least 32/);
    expect(problemsOf({ ENCRYPTION_KEY_PREVIOUS: older })).toMatch(/ENCRYPTION_KEY_PREVIOUS needs ENCRYPTION_KEY/);
  });

  it("never repeats a secret value in its message", () => {
    const secret = "short-secret-value";
    const message = problemsOf({ ENCRYPTION_KEY: secret });
    expect(message).toMatch(/ENCRYPTION_KEY must be at least 32 characters/);
    expect(message).not.toContain(secret);
  });

  it("stops the process with one line when run as an entry point", async () => {
    const { spawnSync } = await import("node:child_process");
    const entry = new URL("../src/index.ts", import.meta.url).href;
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", `import(${JSON.stringify(entry)}).then((m) => m.loadConfigOrExit())`],
      { env: { ...process.env, PORT: "not-a-port" }, encoding: "utf8", cwd: import.meta.dirname },
    );
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/PORT/);
  });
});

describe("documentation", () => {
  it("lists every variable in .env.example and in the README", async () => {
    const { readFile } = await import("node:fs/promises");
    const { envSchema } = await import("../src/index.ts");
    const root = new URL("../../../", import.meta.url);
    const example = await readFile(new URL(".env.example", root), "utf8");
    const readme = await readFile(new URL("README.md", root), "utf8");
    for (const name of Object.keys(envSchema.shape)) {
      expect(example, `.env.example lacks ${name}`).toMatch(new RegExp(`^#? ?${name}=`, "m"));
      expect(readme, `README lacks ${name}`).toContain(`\`${name}\``);
    }
  });
});
