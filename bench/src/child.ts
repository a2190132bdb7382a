// One measured process: either the outbox worker (scanner + processor) or raw BullMQ, with no-op
// handlers. Told what to do by the parent over IPC; reports timings and its peak RSS.
import { Queue, Worker } from "bullmq";
import { loadConfig } from "@outbox/config";
import { createLogger } from "@outbox/logger";
import type { HandlerMap } from "@outbox/processor";
import { createRedis } from "@outbox/queues";
import { startWorker } from "@outbox/worker";

type Command = { run: "outbox"; expect: number; recordStarts?: boolean } | { run: "raw"; jobs: number; concurrency: number; prefix: string };

const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send!(message);

async function runOutbox(expect: number, recordStarts: boolean) {
  const config = loadConfig(process.env);
  const starts: [string, number][] = [];
  let handled = 0;
  let done: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const noop = async ({ event }: { event: { id: string } }) => {
    if (recordStarts) starts.push([event.id, now()]);
  };
  const handlers = { TenantCreated: noop } as HandlerMap;
  const worker = await startWorker({
    config,
    handlers,
    logger: createLogger({ level: "warn" }),
    onOutcome: (_type, outcome) => {
      if (outcome.kind === "handled" && ++handled === expect) done();
    },
  });
  send({ ready: true });
  await finished;
  const finishedAt = now();
  await worker.stop();
  send({ finishedAt, starts, maxRssMb: process.resourceUsage().maxRSS / 1024 });
}

async function runRaw(jobs: number, concurrency: number, prefix: string) {
  const config = loadConfig(process.env);
  const connection = createRedis({ url: config.REDIS_URL }, "worker");
  const queue = new Queue("raw", { connection, prefix });
  let completed = 0;
  let done: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker("raw", async () => {}, { connection, prefix, concurrency });
  worker.on("completed", () => {
    if (++completed === jobs) done();
  });
  await worker.waitUntilReady();
  const t0 = now();
  for (let i = 0; i < jobs; i += 500) {
    const size = Math.min(500, jobs - i);
    await queue.addBulk(
      Array.from({ length: size }, (_, k) => ({
        name: "TenantCreated",
        data: { type: "TenantCreated", payload: { tenantId: `t${i + k}` } },
        opts: { jobId: `raw-${i + k}`, priority: 6, attempts: 3, removeOnComplete: { count: 100 }, removeOnFail: { count: 50 } },
      })),
    );
  }
  await finished;
  const seconds = (now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  send({ seconds, finishedAt: t0 + seconds * 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 });
}

process.once("message", (command: Command) => {
  const run = command.run === "outbox" ? runOutbox(command.expect, command.recordStarts ?? false) : runRaw(command.jobs, command.concurrency, command.prefix);
  run.then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
