// examples/minimal as a user gets it: the package packed into its one tarball (`pnpm pack:engine`),
// the example copied into an empty project outside the workspace, installed from that tarball with
// npm (its third-party dependencies from the registry), type checked against the installed
// declarations, and run against the real Postgres and Redis.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, databaseUrl, dropDatabase, nodeBinary, onServer, uniqueName } from "@outbox/testing";
import { filesUnder, installExample, packEngine, sh, userEnv, type Packed } from "./install.ts";

const work = mkdtempSync(path.join(os.tmpdir(), "outbox-minimal-"));
const project = path.join(work, "greetings-service");
const installed = path.join(project, "node_modules", "outbox-relay");
const database = uniqueName("outbox_minimal");
const redis = createTestRedis();

let packed: Packed;

beforeAll(async () => {
  packed = await packEngine(path.join(work, "tarballs"));
  await installExample("minimal", project, packed);
}, 300_000);

const otherNodes = [22, 24] as const;
const otherDatabases = otherNodes.map((major) => uniqueName(`outbox_minimal_node${major}`));

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  for (const name of [database, ...otherDatabases]) await dropDatabase(name);
  await redis.clean();
});

describe("examples/minimal installed from the packed tarballs", () => {
  it("installs one package, outbox-relay, from its tarball: JavaScript and type declarations without TypeScript source", () => {
    expect(path.basename(packed.tarball)).toBe(`outbox-relay-${packed.version}.tgz`);
    expect(readdirSync(path.join(project, "node_modules")).filter((name) => name.startsWith("@outbox"))).toEqual([]);
    const files = filesUnder(installed);
    expect(files).toEqual(expect.arrayContaining(["package.json", "LICENSE", "README.md", "migration.sql", path.join("dist", "index.js"), path.join("dist", "index.d.ts")]));
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(existsSync(path.join(installed, "src"))).toBe(false);
  });

  it("type checks against the installed declarations, the package's own included", async () => {
    await sh(path.join(project, "node_modules", ".bin", "tsc"), ["-p", ".", "--skipLibCheck", "false"], { cwd: project, env: userEnv });
  }, 120_000);

  it("publishes its event in its own transaction and the worker's handler greets", async () => {
    await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`));
    const stdout = await sh("npm", ["start", "--silent"], { cwd: project, env: { ...userEnv, DATABASE_URL: databaseUrl(database), REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix } });
    expect(stdout).toMatch(/Greeted [0-9a-f-]{36}/);

    const client = new pg.Client({ connectionString: databaseUrl(database) });
    await client.connect();
    try {
      const greetings = await client.query<{ name: string; greeted: boolean }>("SELECT name, greeted_at IS NOT NULL AS greeted FROM greetings");
      expect(greetings.rows).toEqual([{ name: "Ada", greeted: true }]);
      const events = await client.query<{ event_type: string; status: string }>("SELECT event_type, status FROM event_outbox");
      expect(events.rows).toEqual([{ event_type: "GreetingRequested", status: "processed" }]);
    } finally {
      await client.end();
    }
  }, 120_000);

  it("reports its outbox with the outbox-relay bin, and retries a dead event with the service's catalog", async () => {
    const env = { ...userEnv, DATABASE_URL: databaseUrl(database), REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
    const bin = path.join(project, "node_modules", ".bin", "outbox-relay");
    const stats = JSON.parse(await sh(bin, ["stats", "--json"], { cwd: project, env })) as { outbox: Record<string, number> };
    expect(stats.outbox).toMatchObject({ processed: 1, dead: 0 });
    // The example ran migrate(): the bin finds every migration recorded.
    expect(JSON.parse(await sh(bin, ["migrate", "--json"], { cwd: project, env }))).toMatchObject({ applied: [], baselined: [] });

    const client = new pg.Client({ connectionString: databaseUrl(database) });
    await client.connect();
    try {
      const greetingId = "9b2f6c1e-0d4a-4f5e-8a7b-3c2d1e0f9a8b";
      const { rows: [dead] } = await client.query<{ id: string }>(
        `INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error)
         VALUES ('GreetingRequested', 'greeting', $1, jsonb_build_object('greetingId', $1::text, 'name', 'Grace'), 'dead', 3, 'smtp: refused') RETURNING id::text`,
        [greetingId],
      );
      const listed = JSON.parse(await sh(bin, ["dlq", "list", "--json"], { cwd: project, env })) as { events: { id: string; lastError: string }[] };
      expect(listed.events).toEqual([expect.objectContaining({ id: dead!.id, lastError: "smtp: refused" })]);

      await expect(sh(bin, ["dlq", "retry", dead!.id], { cwd: project, env })).rejects.toThrow("needs the service's catalog: --catalog FILE or OUTBOX_RELAY_CATALOG");
      const retried = JSON.parse(await sh("node", ["--import", "tsx", bin, "--catalog", "src/greetings.ts", "dlq", "retry", dead!.id, "--json"], { cwd: project, env })) as unknown;
      expect(retried).toEqual({ retried: [dead!.id] });
      const { rows } = await client.query<{ status: string; attempts: number }>("SELECT status, attempts FROM event_outbox WHERE id = $1", [dead!.id]);
      expect(rows).toEqual([{ status: "pending", attempts: 0 }]);
    } finally {
      await client.end();
    }
  }, 120_000);

  it.each(otherNodes.map((major, i) => [major, otherDatabases[i]!] as const))("runs on Node %i, as installed", async (major, name) => {
    const node = await nodeBinary(major);
    await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
    const env = { ...userEnv, PATH: `${path.dirname(node)}:${userEnv.PATH ?? ""}`, DATABASE_URL: databaseUrl(name), REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}node${major}` };
    expect(await sh(node, ["--version"], { cwd: project, env })).toMatch(new RegExp(`^v${major}\\.`));
    expect(await sh(node, ["--import", "tsx", "src/main.ts"], { cwd: project, env })).toMatch(/Greeted [0-9a-f-]{36}/);
    const stats = JSON.parse(await sh(node, [path.join(project, "node_modules", ".bin", "outbox-relay"), "stats", "--json"], { cwd: project, env })) as { outbox: Record<string, number> };
    expect(stats.outbox).toMatchObject({ processed: 1 });
  }, 300_000);
});
