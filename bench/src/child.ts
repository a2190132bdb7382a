// One measured process, driven by the parent over IPC: an outbox worker (scanner + processor,
// no-op handler) or a raw BullMQ worker that adds its share of jobs and processes the queue.
// It reports how many jobs it has finished every 50 ms, and its peak RSS when told to stop.
import { Queue, Worker } from "bullmq";
import { loadConfig } from "@outbox/config";
import { createLogger } from "@outbox/logger";
import type { HandlerMap } from "@outbox/processor";
import { createRedis } from "@outbox/queues";
import { startWorker } from "@outbox/worker";

export type ChildCommand =
  | { run: "outbox"; recordStarts?: boolean }
  | { run: "raw"; share: number; offset: number; concurrency: number; prefix: string };
export type ParentMessage = { go: true } | { stop: true };
export type ChildMessage =
  | { ready: true }
  | { done: number; at: number }
  | { stopped: true; maxRssMb: number; starts: [string, number][] };

const now = () => performance.timeOrigin + performance.now();
const send = (message: ChildMessage) => process.send!(message);
/** Sends and waits until the message is out: the process exits right after its last one. */
const sendLast = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
const nextMessage = () => new Promise<ParentMessage>((resolve) => process.once("message", resolve));

function reportProgress(count: () => number): NodeJS.Timeout {
  let last = -1;
  return setInterval(() => {
    const done = count();
    if (done !== last) send({ done, at: now() });
    last = done;
  }, 50);
}

async function runOutbox(recordStarts: boolean) {
  const starts: [string, number][] = [];
  let handled = 0;
  const handlers = {
    TenantCreated: async ({ event }: { event: { id: string } }) => {
      if (recordStarts) starts.push([event.id, now()]);
    },
  } as HandlerMap;
  const worker = await startWorker({
    config: loadConfig(process.env),
    handlers,
    logger: createLogger({ level: "warn" }),
    onOutcome: (_type, outcome) => {
      if (outcome.kind === "handled") handled++;
    },
  });
  const progress = reportProgress(() => handled);
  send({ ready: true });
  await nextMessage();
  clearInterval(progress);
  await worker.stop();
  await sendLast({ stopped: true, maxRssMb: process.resourceUsage().maxRSS / 1024, starts });
}

async function runRaw({ share, offset, concurrency, prefix }: Extract<ChildCommand, { run: "raw" }>) {
  const config = loadConfig(process.env);
  const connection = createRedis({ url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) }, "worker");
  const queue = new Queue("raw", { connection, prefix });
  let completed = 0;
  const worker = new Worker("raw", async () => {}, { connection, prefix, concurrency });
  worker.on("completed", () => completed++);
  await worker.waitUntilReady();
  const progress = reportProgress(() => completed);
  send({ ready: true });
  await nextMessage(); // go
  for (let i = 0; i < share; i += 500) {
    const size = Math.min(500, share - i);
    await queue.addBulk(
      Array.from({ length: size }, (_, k) => {
        const n = offset + i + k;
        const payload = { tenantId: `t${n}`, name: "Bench", slug: `bench-${n}`, createdAt: new Date().toISOString() };
        return { name: "TenantCreated", data: { type: "TenantCreated", payload }, opts: { jobId: `raw-${n}`, priority: 6, attempts: 3, removeOnComplete: { count: 100 }, removeOnFail: { count: 50 } } };
      }),
    );
  }
  await nextMessage(); // stop
  clearInterval(progress);
  await worker.close();
  await queue.close();
  connection.disconnect();
  await sendLast({ stopped: true, maxRssMb: process.resourceUsage().maxRSS / 1024, starts: [] });
}

process.once("message", (command: ChildCommand) => {
  const run = command.run === "outbox" ? runOutbox(command.recordStarts ?? false) : runRaw(command);
  run.then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
