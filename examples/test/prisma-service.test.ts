// examples/prisma-service as a user gets it: the package packed into its one tarball, the example
// copied into an empty project, installed there with npm, its Prisma client generated, type checked
// against the installed declarations, its Prisma migrations applied, and run against the real
// Postgres and Redis.
//
// `prisma migrate deploy` needs Prisma's schema engine, a download this machine cannot make; the
// test applies prisma/migrations with @outbox/db's runner instead, which runs each migration.sql in
// order and records it in _prisma_migrations as Prisma does, so the database is the one
// `prisma migrate deploy` would have made.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "@outbox/db";
import { createTestRedis, databaseUrl, dropDatabase, nodeBinary, uniqueName } from "@outbox/testing";
import { installExample, packEngine, sh, userEnv } from "./install.ts";

const work = mkdtempSync(path.join(os.tmpdir(), "outbox-prisma-service-"));
const project = path.join(work, "tickets-service");
const migrations = path.join(project, "prisma", "migrations");
const database = uniqueName("outbox_prisma_service");
const redis = createTestRedis();
const adminToken = randomBytes(24).toString("hex");
const env = { ...userEnv, DATABASE_URL: databaseUrl(database), REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, ADMIN_TOKEN: adminToken };

const otherNodes = [22, 24] as const;
const otherDatabases = otherNodes.map((major) => uniqueName(`outbox_prisma_service_node${major}`));

let npmOutput: string;

beforeAll(async () => {
  const packed = await packEngine(path.join(work, "tarballs"));
  npmOutput = await installExample("prisma-service", project, packed);
}, 300_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  for (const name of [database, ...otherDatabases]) await dropDatabase(name);
  await redis.clean();
});

async function query<Row extends pg.QueryResultRow>(text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    return (await client.query<Row>(text)).rows;
  } finally {
    await client.end();
  }
}

describe("examples/prisma-service installed from the packed tarball", () => {
  it("installs outbox-relay from the tarball, no workspace package, and runs none of Prisma's install scripts (no engine download)", () => {
    expect(readdirSync(path.join(project, "node_modules")).filter((name) => name.startsWith("@outbox"))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(project, "node_modules", "outbox-relay", "package.json"), "utf8"))).toMatchObject({ name: "outbox-relay", version: "0.2.0" });
    // npm prints a script's banner when it runs one (--foreground-scripts), and names any it ran unreviewed.
    expect(npmOutput).not.toMatch(/(prisma|@prisma\/engines)@\S+ \(?(preinstall|install|postinstall)/);
  });

  it("generates its Prisma client without the schema engine", async () => {
    await sh("npm", ["run", "generate", "--silent"], { cwd: project, env: userEnv });
    expect(existsSync(path.join(project, "src", "generated", "prisma", "client.ts"))).toBe(true);
  }, 120_000);

  it("type checks against the installed declarations and its generated client", async () => {
    await sh(path.join(project, "node_modules", ".bin", "tsc"), ["-p", ".", "--skipLibCheck", "false"], { cwd: project, env: userEnv });
  }, 120_000);

  it("keeps the engine's migration files unchanged in its Prisma Migrate history, and applies it as `prisma migrate deploy` would", async () => {
    const engineFiles = readdirSync(path.join(project, "node_modules", "outbox-relay", "migrations")).sort();
    expect(engineFiles.length).toBeGreaterThanOrEqual(4);
    for (const file of engineFiles) {
      const [folder, ...others] = readdirSync(migrations).filter((name) => name.endsWith(`_outbox_relay_${file.slice(0, 4)}`));
      expect(others, file).toEqual([]);
      expect(readFileSync(path.join(migrations, folder!, "migration.sql"), "utf8"), file).toBe(readFileSync(path.join(project, "node_modules", "outbox-relay", "migrations", file), "utf8"));
    }

    const folders = readdirSync(migrations, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    // The engine's files as migrations of their own, in the engine's order, beside the service's (0005 came after its tickets table).
    const names = folders.map((name) => name.replace(/^\d{14}_/, ""));
    expect(names.filter((name) => name !== "tickets")).toEqual(engineFiles.map((file) => `outbox_relay_${file.slice(0, 4)}`));
    expect(names).toContain("tickets");
    const { applied } = await migrate(databaseUrl(database), migrations);
    expect(applied).toEqual(folders);
  }, 60_000);

  it("opens a ticket through its API, the worker's Prisma handler triages it, the admin API answers only with the token", async () => {
    const stdout = await sh("npm", ["start", "--silent"], { cwd: project, env });
    const ticketId = /^Ticket ([0-9a-f-]{36}) triaged, priority high$/m.exec(stdout)?.[1];
    expect(ticketId, stdout).toBeDefined();
    const admin = (who: string) => new RegExp(`^GET /admin/api/stats ${who} the token: (\\d+) (.*)$`, "m").exec(stdout);
    const [, anonymousStatus, anonymousBody] = admin("without") ?? [];
    expect([anonymousStatus, JSON.parse(anonymousBody ?? "null")]).toEqual(["401", { error: "admins only", code: "UNAUTHORIZED" }]);
    const [, adminStatus, adminBody] = admin("with") ?? [];
    expect(adminStatus).toBe("200");
    expect(JSON.parse(adminBody ?? "null")).toMatchObject({ outbox: { pending: 0, processed: 1, dead: 0 }, dlqSize: 0 });

    expect(await query("SELECT id::text, title, status, priority, triaged_at IS NOT NULL AS triaged FROM tickets")).toEqual([
      { id: ticketId, title: "Checkout is down", status: "triaged", priority: "high", triaged: true },
    ]);
    expect(await query("SELECT event_type, aggregate_id, status, payload FROM event_outbox")).toEqual([
      { event_type: "TicketOpened", aggregate_id: ticketId, status: "processed", payload: { ticketId, title: "Checkout is down" } },
    ]);
  }, 120_000);

  it("reports its outbox with the installed outbox-relay bin", async () => {
    const stats = JSON.parse(await sh(path.join(project, "node_modules", ".bin", "outbox-relay"), ["stats", "--json"], { cwd: project, env })) as { outbox: Record<string, number> };
    expect(stats.outbox).toMatchObject({ pending: 0, processed: 1, dead: 0 });
  }, 60_000);

  it.each(otherNodes.map((major, i) => [major, otherDatabases[i]!] as const))("runs on Node %i, as installed", async (major, name) => {
    const node = await nodeBinary(major);
    await migrate(databaseUrl(name), migrations);
    const nodeEnv = { ...env, PATH: `${path.dirname(node)}:${userEnv.PATH ?? ""}`, DATABASE_URL: databaseUrl(name), QUEUE_PREFIX: `${redis.prefix}node${major}` };
    expect(await sh(node, ["--version"], { cwd: project, env: nodeEnv })).toMatch(new RegExp(`^v${major}\\.`));
    expect(await sh(node, ["--import", "tsx", "src/main.ts"], { cwd: project, env: nodeEnv })).toMatch(/^Ticket [0-9a-f-]{36} triaged, priority high$/m);
    const stats = JSON.parse(await sh(node, [path.join(project, "node_modules", ".bin", "outbox-relay"), "stats", "--json"], { cwd: project, env: nodeEnv })) as { outbox: Record<string, number> };
    expect(stats.outbox).toMatchObject({ processed: 1, dead: 0 });
  }, 300_000);
});
