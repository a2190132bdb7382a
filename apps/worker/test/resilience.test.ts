import { afterEach, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { waitFor } from "@outbox/testing";
import {
  effectsPerEvent,
  publishAll,
  setupPipeline,
  spawnWorker,
  startPrivateRedis,
  startTestWorker,
  tenantEvent,
  waitForStatus,
  type PipelineEnv,
} from "./helpers.ts";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function pipelineFor(overrides: Record<string, string> = {}): Promise<PipelineEnv> {
  const pipeline = await setupPipeline(overrides);
  cleanups.push(() => pipeline.cleanup());
  return pipeline;
}

/** Waits until a worker has taken the event's job. */
async function waitForActive(pipeline: PipelineEnv, id: string) {
  const queues = pipeline.openQueues();
  try {
    await waitFor(async () => (await queues.events.getJobState(id)) === "active", { message: `the job of ${id} to be active` });
  } finally {
    await queues.shut();
  }
}

async function expectExactlyOnce(pipeline: PipelineEnv, ids: string[]) {
  const effects = await effectsPerEvent(pipeline.prisma);
  const wrong = ids.filter((id) => effects.get(id) !== 1);
  expect(wrong, `events without exactly one effect: ${wrong.length}`).toEqual([]);
}

describe("resilience", () => {
  it("two scanner+worker OS processes on one database: no duplicate effect, nothing left", async () => {
    const pipeline = await pipelineFor();
    const workers = await Promise.all([spawnWorker(pipeline.env), spawnWorker(pipeline.env)]);
    cleanups.push(async () => {
      for (const w of workers) w.child.kill("SIGKILL");
      await Promise.all(workers.map((w) => w.exited));
    });
    const ids = await publishAll(pipeline.prisma, Array.from({ length: 1500 }, () => tenantEvent()));
    await waitForStatus(pipeline.prisma, ids, "processed", 60_000);
    await expectExactlyOnce(pipeline, ids);
    const pids = await pipeline.prisma.$queryRaw<{ pid: number }[]>`SELECT DISTINCT pid FROM test_effects`;
    expect(pids.length).toBe(2);
    for (const w of workers) w.child.kill("SIGTERM");
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  });

  it("Redis FLUSHALL while events flow: every event still ends processed, effects exactly once", async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const pipeline = await pipelineFor({ REDIS_URL: redis.url });
    const worker = await startTestWorker(pipeline);
    cleanups.push(() => worker.stop());
    const admin = new Redis(redis.url);
    cleanups.push(async () => admin.disconnect());

    const ids: string[] = [];
    for (let round = 0; round < 6; round++) {
      ids.push(...(await publishAll(pipeline.prisma, Array.from({ length: 300 }, () => tenantEvent("delay:2")))));
      if (round % 2 === 1) await admin.flushall();
    }
    await waitForStatus(pipeline.prisma, ids, "processed", 60_000);
    await expectExactlyOnce(pipeline, ids);
  });

  it("a worker killed with SIGKILL in the middle of a slow handler: the job is recovered and its effect happens once", async () => {
    const pipeline = await pipelineFor();
    const first = await spawnWorker(pipeline.env);
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("delay:3000")]);
    await waitForActive(pipeline, id!);
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the handler start its delay
    first.child.kill("SIGKILL");
    await first.exited;
    expect((await effectsPerEvent(pipeline.prisma)).get(id!)).toBeUndefined();

    const second = await spawnWorker(pipeline.env);
    cleanups.push(async () => {
      second.child.kill("SIGTERM");
      await second.exited;
    });
    await waitForStatus(pipeline.prisma, [id!], "processed", 30_000);
    await expectExactlyOnce(pipeline, [id!]);
    const [effect] = await pipeline.prisma.$queryRaw<{ pid: number }[]>`SELECT pid FROM test_effects WHERE event_id = ${id}::uuid`;
    expect(effect?.pid).toBe(second.child.pid);
  });

  it("SIGTERM lets the active handler finish, then exits 0 with nothing half-done", async () => {
    const pipeline = await pipelineFor();
    const worker = await spawnWorker(pipeline.env);
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("delay:1500")]);
    await waitForActive(pipeline, id!);
    await new Promise((resolve) => setTimeout(resolve, 300));
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    const row = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: id! } });
    expect(row.status).toBe("processed");
    await expectExactlyOnce(pipeline, [id!]);
  });

  it("SIGTERM then SIGINT in a row is one request: the active handler finishes, exit 0; a third signal exits at once", async () => {
    const pipeline = await pipelineFor();
    const worker = await spawnWorker(pipeline.env);
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("delay:1500")]);
    await waitForActive(pipeline, id!);
    worker.child.kill("SIGTERM");
    worker.child.kill("SIGINT");
    expect(await worker.exited).toBe(0);
    expect((await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: id! } })).status).toBe("processed");
    await expectExactlyOnce(pipeline, [id!]);

    const forced = await spawnWorker(pipeline.env);
    const [slow] = await publishAll(pipeline.prisma, [tenantEvent("delay:5000")]);
    await waitForActive(pipeline, slow!);
    // Spaced: the kernel merges a signal into the same one still pending.
    for (let i = 0; i < 3; i++) {
      forced.child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await forced.exited).toBe(1);
    expect((await effectsPerEvent(pipeline.prisma)).get(slow!)).toBeUndefined(); // rolled back; it runs again elsewhere
  });

  it("wakes on NOTIFY: with the tick once an hour, a committed event is handled within a second", async () => {
    const pipeline = await pipelineFor({ SCAN_CRON: "0 0 * * * *", RECOVERY_INTERVAL_MS: "3600000" });
    const worker = await startTestWorker(pipeline);
    cleanups.push(() => worker.stop());
    await new Promise((resolve) => setTimeout(resolve, 200)); // the start-up pass is over
    const started = Date.now();
    const [id] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [id!], "processed", 5000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
