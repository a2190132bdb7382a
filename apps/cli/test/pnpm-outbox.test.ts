import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, createTestRedis, freePort, type TestDatabase, type TestRedis } from "@outbox/testing";

const root = path.resolve(import.meta.dirname, "../../..");
let db: TestDatabase;
let redis: TestRedis;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  // Build the bundles now (when stale), so the runs below time the command, not the build.
  await promisify(execFile)(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root });
});
afterAll(async () => {
  await redis.clean();
  await db.drop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `pnpm outbox ...` exactly as a user types it at the repository root, stdout piped as to `jq`. */
async function pnpmOutbox(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  const fullEnv = { ...process.env, DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: "silent", ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)("pnpm", ["outbox", ...args], { cwd: root, env: fullEnv });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, ms: Date.now() - started };
  }
}

describe("pnpm outbox, as typed at the repository root", () => {
  it("prints JSON alone on stdout (no pnpm banner), so `pnpm outbox stats --json | jq` works", async () => {
    const run = await pnpmOutbox(["stats", "--json"]);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith("{")).toBe(true);
    expect(JSON.parse(run.stdout)).toMatchObject({ outbox: { pending: 0, dead: 0 }, estimated: [], lagMs: 0 });
  });

  it("answers well within seconds: a bundle in one process, no TypeScript loader (a generous bound, not a target)", async () => {
    const runs = [await pnpmOutbox(["stats", "--json"]), await pnpmOutbox(["stats", "--json"])];
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    expect(Math.min(...runs.map((run) => run.ms))).toBeLessThan(5000);
  });

  it("ends at once with the reason when Redis cannot be reached, and exit code 1", async () => {
    const run = await pnpmOutbox(["stats"], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toBe("outbox: redis: unreachable (connection refused); check REDIS_URL\n");
    expect(run.ms).toBeLessThan(8000); // it waited forever, printing a stack trace per retry

    const json = await pnpmOutbox(["stats", "--json"], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: "REDIS_UNREACHABLE", message: "redis: unreachable (connection refused); check REDIS_URL" } });
  });

  it("names a database that does not exist", async () => {
    const run = await pnpmOutbox(["dlq", "list"], { DATABASE_URL: `${db.url}_missing` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("outbox: postgres: unreachable (database does not exist); check DATABASE_URL\n");
  });
});
