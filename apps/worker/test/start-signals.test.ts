import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Database, sql } from "outbox-relay/sql";
import { databaseUrl, deleteKeys, dropDatabase, freePort, redisUrl, uniqueName, waitFor } from "@outbox/testing";

const root = path.resolve(import.meta.dirname, "../../..");
const database = uniqueName("outbox_signals");
const prefix = `outbox-signals-${process.pid}`;
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await dropDatabase(database);
  await deleteKeys(`${prefix}:*`);
});

/** A webhook receiver on loopback that answers 200 only after `delayMs`: a delivery stays in flight that long. */
async function slowReceiver(delayMs: number) {
  let requests = 0;
  let arrived: () => void = () => {};
  const firstRequest = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      requests += 1;
      arrived();
      setTimeout(() => response.writeHead(200).end("ok"), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, firstRequest, requests: () => requests };
}

const adminPassword = "start-signals-admin";
const asAdmin = `Basic ${Buffer.from(`admin:${adminPassword}`).toString("base64")}`;

async function post(port: number, url: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: asAdmin },
    body: JSON.stringify(body),
  });
  expect(response.status, `POST ${url}`).toBe(201);
  return (await response.json()) as Record<string, string>;
}

const answers = async (url: string) => (await fetch(url).catch(() => undefined))?.status;

describe("pnpm start and a terminal's Ctrl-C", () => {
  it("SIGINT to pnpm start's whole process group (the launcher gets it, and pnpm may forward a copy) stops gracefully: the webhook in flight is delivered once, exit 0", async () => {
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const receiver = await slowReceiver(3000);
    // Its own process group, as a terminal gives the command it runs: a group signal reaches pnpm and the launcher.
    const child = spawn("pnpm", ["start"], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl(database),
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        PORT: String(apiPort),
        WORKER_PORT: String(workerPort),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        NODE_ENV: "test",
        ENCRYPTION_KEY: "k".repeat(40),
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
        SHUTDOWN_TIMEOUT_MS: "20000",
        ADMIN_PASSWORD: adminPassword,
      },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    });

    await waitFor(async () => (await answers(`http://127.0.0.1:${apiPort}/healthz`)) === 200, { timeoutMs: 60_000, message: "the API's /healthz" });
    await waitFor(async () => (await answers(`http://127.0.0.1:${workerPort}/readyz`)) === 200, { timeoutMs: 30_000, message: "the worker's /readyz" });

    // A product's ProductCreated fans out to the tenant's endpoint: one WebhookDelivery event, one POST.
    const tenant = await post(apiPort, "/api/tenants", { name: "Acme", slug: `acme-${randomUUID().slice(0, 8)}` });
    await post(apiPort, `/api/tenants/${tenant.id}/webhook-endpoints`, { url: receiver.url, events: ["product.created"] });
    const seller = await post(apiPort, "/api/users", { tenantId: tenant.id, email: "seller@example.com", role: "seller" });
    await post(apiPort, "/api/products", { tenantId: tenant.id, sellerId: seller.id, categoryId: "books", name: "A book", price: 1250, stock: 3 });
    await receiver.firstRequest;

    process.kill(-child.pid!, "SIGINT"); // Ctrl-C: the terminal signals the foreground process group
    expect(await closed).toEqual({ code: 0, signal: null });

    expect(receiver.requests()).toBe(1);
    const db = new Database(databaseUrl(database), { poolSize: 1 });
    try {
      const rows = await db.query<{ status: string; attempts: number }>(sql`SELECT status, attempts FROM event_outbox WHERE event_type = 'WebhookDelivery'`);
      expect(rows).toEqual([{ status: "processed", attempts: 1 }]);
    } finally {
      await db.close();
    }
    expect(output).toMatch(/"msg":"worker stopped"/);
    expect(output).toMatch(/"msg":"api stopped"/);
    expect(output).toMatch(/api and worker stopped \(exit 0\)/);
    // pnpm forwards a copy to the launcher on some runs, not others (not under load): a copy is the
    // same request, never a forced stop (packages/shutdown's rule, unit-tested there).
    expect(output).not.toMatch(/exiting now/);
  });
});
