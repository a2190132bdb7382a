import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "@outbox/config";
import { databaseUrl, onDatabase, onServer, redisUrl, serverUrl, testServers } from "../src/index.ts";

const folder = mkdtempSync(path.join(os.tmpdir(), "outbox-test-servers-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function envFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(folder, "env-")), ".env");
  writeFileSync(file, text);
  return file;
}
const noFile = path.join(folder, "missing", ".env");

describe("testServers", () => {
  it("takes the host, port, credentials and options of DATABASE_URL, never its database", () => {
    const servers = testServers({ DATABASE_URL: "postgresql://app:s3cret@db.internal:6543/shop?sslmode=disable", REDIS_URL: "redis://cache:6390/2" }, noFile);
    expect(servers).toEqual({ postgres: "postgresql://app:s3cret@db.internal:6543/postgres?sslmode=disable", redis: "redis://cache:6390/2" });
    expect(onDatabase(servers.postgres, "outbox_test_x")).toBe("postgresql://app:s3cret@db.internal:6543/outbox_test_x?sslmode=disable");
  });

  it("reads .env when the environment does not say, and the environment wins", () => {
    const file = envFile("  # the servers\nDATABASE_URL=postgresql://u@pg:6000/shop   # a comment\nREDIS_URL=redis://r:7000\n");
    expect(testServers({}, file)).toEqual({ postgres: "postgresql://u@pg:6000/postgres", redis: "redis://r:7000" });
    expect(testServers({ REDIS_URL: "redis://other:7001" }, file)).toEqual({ postgres: "postgresql://u@pg:6000/postgres", redis: "redis://other:7001" });
  });

  it("prefers TEST_DATABASE_URL and TEST_REDIS_URL", () => {
    const env = { DATABASE_URL: "postgresql://u@pg:6000/shop", TEST_DATABASE_URL: "postgresql://t@tests:6001/x", TEST_REDIS_URL: "redis://tests:7002" };
    expect(testServers(env, noFile)).toEqual({ postgres: "postgresql://t@tests:6001/postgres", redis: "redis://tests:7002" });
  });

  it("falls back on the processes' defaults, the port made explicit", () => {
    const defaults = loadConfig({});
    const postgres = new URL(testServers({}, noFile).postgres);
    expect([postgres.hostname, postgres.pathname]).toEqual([new URL(defaults.DATABASE_URL).hostname, "/postgres"]);
    expect(postgres.port).toMatch(/^\d+$/);
    expect(testServers({}, noFile).redis).toBe(defaults.REDIS_URL);
  });

  it("refuses a malformed URL naming the variable", () => {
    expect(() => testServers({ DATABASE_URL: "mysql://x/y" }, noFile)).toThrow(/DATABASE_URL must be a postgresql:\/\/ URL/);
  });
});

describe("the helpers of this run", () => {
  it("use the configured servers: the port Postgres and Redis answer on is the URL's", async () => {
    expect(serverUrl).toBe(testServers().postgres);
    expect(redisUrl).toBe(testServers().redis);
    const port = await onServer(async (client) => (await client.query<{ port: string }>("SHOW port")).rows[0]?.port);
    expect(port).toBe(new URL(serverUrl).port);
    const redis = new Redis(redisUrl);
    try {
      const info = await redis.info("server");
      expect(info).toMatch(new RegExp(`^tcp_port:${new URL(redisUrl).port || "\\d+"}\\r?$`, "m"));
    } finally {
      redis.disconnect();
    }
  });

  it("follow .env in the working directory of a run", async () => {
    const cwd = path.dirname(envFile("DATABASE_URL=postgresql://u:p@pg.example:6543/shop\nREDIS_URL=redis://cache.example:6390\n"));
    const modules = ["database.ts", "redis.ts"].map((name) => pathToFileURL(path.resolve(import.meta.dirname, "../src", name)).href);
    const script = `Promise.all(${JSON.stringify(modules)}.map((m) => import(m))).then(([db, redis]) => process.stdout.write(JSON.stringify([db.databaseUrl("t"), redis.redisUrl])))`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TEST_)?(DATABASE|REDIS)_URL$/.test(name)));
    const tsx = import.meta.resolve("tsx");
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", tsx, "-e", script], { cwd, env });
    expect(JSON.parse(stdout)).toEqual(["postgresql://u:p@pg.example:6543/t", "redis://cache.example:6390"]);
    expect(databaseUrl("t")).toBe(onDatabase(serverUrl, "t"));
  });
});
