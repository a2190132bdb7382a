import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPrisma, readMigrations } from "@outbox/db";
import { migrationsDir } from "outbox-relay";
import { databaseUrl, deleteKeys, dropDatabase, redisUrl, uniqueName, waitFor } from "@outbox/testing";
import { freePort } from "./helpers.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const database = uniqueName("outbox_start");
const prefix = `outbox-start-${process.pid}`;

afterAll(async () => {
  await dropDatabase(database);
  await deleteKeys(`${prefix}:*`);
});

async function answers(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url)).status;
  } catch {
    return undefined;
  }
}

describe("pnpm start", () => {
  it("creates and migrates the database, serves the API and the worker, and exits cleanly on SIGTERM", async () => {
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const child = spawn("pnpm", ["start"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DATABASE_URL: databaseUrl(database), REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, PORT: String(apiPort), WORKER_PORT: String(workerPort), HOST: "127.0.0.1", LOG_LEVEL: "info", ADMIN_PASSWORD: randomBytes(18).toString("base64url") },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // "close": pnpm and every process that shares its output (the launcher, the API, the worker) are gone.
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));

    await waitFor(async () => (await answers(`http://127.0.0.1:${apiPort}/healthz`)) === 200, { timeoutMs: 60_000, message: "the API's /healthz" });
    await waitFor(async () => (await answers(`http://127.0.0.1:${workerPort}/healthz`)) === 200, { timeoutMs: 30_000, message: "the worker's /healthz" });
    expect(await answers(`http://127.0.0.1:${apiPort}/readyz`)).toBe(200);
    await waitFor(async () => (await answers(`http://127.0.0.1:${workerPort}/readyz`)) === 200, { message: "the worker's /readyz (the engine's migrations in effect)" });
    const prisma = createPrisma(databaseUrl(database));
    const [migrations] = await prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM _prisma_migrations`;
    const [engineMigrations] = await prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM outbox_relay_migrations`;
    await prisma.$disconnect();
    expect(migrations!.n).toBe((await readMigrations()).length);
    expect(engineMigrations!.n).toBe(readdirSync(migrationsDir()).length);

    process.kill(child.pid!, "SIGTERM"); // what a process manager does: the main pid only
    await closed;
    expect(output).toMatch(/"msg":"worker stopped"/);
    expect(output).toMatch(/"msg":"api stopped"/);
    expect(output).toMatch(/api and worker stopped \(exit 0\)/);
    expect(await answers(`http://127.0.0.1:${apiPort}/healthz`)).toBeUndefined();
  });
});
