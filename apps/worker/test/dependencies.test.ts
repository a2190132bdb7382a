import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { migrate } from "@outbox/db";
import { createLogger } from "outbox-relay/logger";
import { freePort, startPrivatePostgres, waitFor } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../src/index.ts";
import { testHandlers } from "./fixtures/test-handlers.ts";
import { publishAll, setupPipeline, startPrivateRedis, tenantEvent, waitForStatus, type PipelineEnv } from "./helpers.ts";

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  vi.restoreAllMocks();
});

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
}

/** The worker's log lines, and whatever else reached the console (ioredis' and BullMQ's unhandled errors print there). */
function captureOutput() {
  const lines: Line[] = [];
  const logger = createLogger({ level: "info", destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) } });
  const console: unknown[][] = [];
  for (const method of ["error", "warn", "log"] as const) {
    vi.spyOn(globalThis.console, method).mockImplementation((...args: unknown[]) => void console.push(args));
  }
  const warnings = () => lines.filter((line) => line.level >= 40).map((line) => line.msg);
  return { logger, lines, console, warnings };
}

/** Lets the components retry for a while: a scan tick and a rescue pass every second, a stats line every second. */
const busyRetrying = () => new Promise((resolve) => setTimeout(resolve, 4000));

async function startCapturedWorker(pipeline: PipelineEnv, logger: ReturnType<typeof createLogger>, overrides: Record<string, string> = {}): Promise<RunningWorker> {
  const worker = await startWorker({ config: pipeline.config({ STATS_INTERVAL_MS: "1000", ...overrides }), handlers: testHandlers, logger });
  cleanups.push(() => worker.stop());
  return worker;
}

async function readyz(port: number): Promise<{ status: number; body: { error?: string; checks?: Record<string, string> } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe("a store that goes away", () => {
  it("Redis not up at start, then stopped and started: the worker waits, one warning when it goes, one when it is back", async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    await redis.stop();
    const pipeline = await setupPipeline({ REDIS_URL: redis.url });
    cleanups.push(() => pipeline.cleanup());
    const output = captureOutput();

    // Not up yet: the worker starts its health listener and waits.
    const healthPort = await freePort();
    const starting = startCapturedWorker(pipeline, output.logger, { WORKER_PORT: String(healthPort) });
    let started = false;
    void starting.then(() => (started = true));
    await waitFor(async () => (await readyz(healthPort).catch(() => undefined))?.status === 503, { message: "the worker's /readyz to answer 503" });
    await busyRetrying();
    expect(started).toBe(false);
    expect(await readyz(healthPort)).toMatchObject({
      status: 503,
      body: { error: "redis: unreachable (connection refused)", checks: { postgres: "ok", redis: "unreachable (connection refused)" } },
    });
    expect(output.warnings()).toEqual(["redis unreachable (connection refused); waiting for it to come back"]);

    await redis.start();
    await starting;
    expect(output.warnings()).toEqual(["redis unreachable (connection refused); waiting for it to come back", expect.stringMatching(/^redis is back after \d+\.\d s$/)]);
    const [first] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [first!], "processed");

    // Gone while running: every component retries, one line says so.
    const before = output.warnings().length;
    await redis.stop();
    await busyRetrying();
    await redis.start();
    await waitFor(() => output.warnings().slice(before).some((msg) => msg.startsWith("redis is back")), { message: `redis is back (lines: ${JSON.stringify(output.warnings())})` });
    const [second] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [second!], "processed", 30_000);

    expect(output.warnings().slice(before)).toEqual([
      // "connection lost" when a command noticed first, "connection refused" when a reconnect did.
      expect.stringMatching(/^redis unreachable \((connection lost|connection refused)\); waiting for it to come back$/),
      expect.stringMatching(/^redis is back after \d+\.\d s$/),
      // The restarted Redis kept nothing: the rescue pass queues the pending events again.
      expect.stringMatching(/^the queue store lost its data/),
    ]);
    expect(output.lines.filter((line) => line.err?.stack)).toEqual([]);
    expect(output.console).toEqual([]);
  });

  it("Postgres stopped and started (a private server): one warning when it goes, one when it is back, nothing lost", async () => {
    const server = await startPrivatePostgres();
    cleanups.push(() => server.stop());
    const url = server.url("outbox");
    await migrate(url);
    const pipeline = await setupPipeline({}, { name: "outbox", url, drop: async () => undefined });
    cleanups.push(() => pipeline.cleanup());
    const output = captureOutput();
    await startCapturedWorker(pipeline, output.logger, { RECOVERY_INTERVAL_MS: "1000" });
    const [first] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [first!], "processed");

    server.pause();
    await busyRetrying();
    expect(output.warnings()).toEqual([expect.stringMatching(/^postgres unreachable \((the server is shutting down|connection refused|connection lost)\); waiting for it to come back$/)]);
    server.resume();
    await waitFor(() => output.warnings().length >= 2, { message: "postgres is back", timeoutMs: 20_000 });
    const [second] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [second!], "processed", 30_000);

    expect(output.warnings()).toEqual([expect.stringMatching(/^postgres unreachable/), expect.stringMatching(/^postgres is back after \d+\.\d s$/)]);
    expect(output.lines.filter((line) => line.err?.stack)).toEqual([]);
    expect(output.console).toEqual([]);
  });
});

describe("a stop while the worker waits for a store", () => {
  it("ends the worker at once with exit 0 (nothing was consumed yet)", async () => {
    const root = path.resolve(import.meta.dirname, "../../..");
    await promisify(execFile)(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root });
    const pipeline = await setupPipeline({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    cleanups.push(() => pipeline.cleanup());
    const healthPort = await freePort();
    const child = spawn(process.execPath, [path.join(root, "apps/worker/dist/main.js")], {
      env: { ...process.env, ...pipeline.env, WORKER_PORT: String(healthPort), LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(() => child.kill("SIGKILL"));

    await waitFor(async () => (await readyz(healthPort).catch(() => undefined))?.status === 503, { message: "the waiting worker's /readyz" });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"worker stopped before it started"');
    expect(output.match(/redis unreachable/g)).toHaveLength(1);
  });
});
