// One measured process, driven by the parent over IPC: an outbox worker (relay + processor, with a
// no-op handler or the real domain handlers and the mailer, their transactions on the engine's pool
// or in a Prisma client) or a raw BullMQ worker that adds its share of jobs and processes the queue.
// It reports how many jobs it has finished every 50 ms, and when told to stop its peak RSS, its idle
// RSS (before the first job) and the statements it sent per committed batch. The parent runs it as
// a bundle (plain JavaScript, as production runs).
import { Queue, Worker } from "bullmq";
import { loadConfig } from "@outbox/config";
import { createPrisma } from "@outbox/db";
import { createDomainHandlers } from "@outbox/handlers";
import { createLogger } from "outbox-relay/logger";
import { startMailer } from "@outbox/mailer";
import type { HandlerMap } from "outbox-relay/processor";
import { createRedis } from "outbox-relay/queues";
import { startWorker } from "@outbox/worker";

export type ChildCommand =
  | { run: "outbox"; recordStarts?: boolean; handlers?: "noop" | "domain"; transactions?: "pool" | "prisma" }
  | { run: "raw"; share: number; offset: number; concurrency: number; prefix: string; prefill?: boolean };
export type ParentMessage = { go: true } | { stop: true };
export interface ChildReport {
  stopped: true;
  maxRssMb: number;
  idleRssMb: number;
  starts: [string, number][];
  batches: number;
  statements: number;
}
export type ChildMessage = { ready: true } | { done: number; at: number } | ChildReport;

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

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

async function runOutbox(recordStarts: boolean, kind: "noop" | "domain", transactions: "pool" | "prisma") {
  const starts: [string, number][] = [];
  let handled = 0;
  let batches = 0;
  const noop = {
    TenantCreated: async ({ event }: { event: { id: string } }) => {
      if (recordStarts) starts.push([event.id, now()]);
    },
  } as HandlerMap;
  const config = loadConfig(process.env);
  const logger = createLogger({ level: "warn" });
  const prisma = transactions === "prisma" ? createPrisma(config.DATABASE_URL) : undefined;
  const worker = await startWorker({
    config,
    prisma,
    handlers: kind === "domain" ? createDomainHandlers() : noop,
    logger,
    onOutcome: (_type, outcome) => {
      if (outcome.kind === "handled") handled++;
    },
    onBatch: () => batches++,
  });
  const mailer = kind === "domain" ? startMailer({ db: worker.db, logger }) : undefined;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleRssMb = rssMb();
  const statementsBefore = worker.db.statementCount;
  const progress = reportProgress(() => handled);
  send({ ready: true });
  await nextMessage();
  clearInterval(progress);
  const statements = worker.db.statementCount - statementsBefore;
  await mailer?.stop();
  await worker.stop();
  await prisma?.$disconnect();
  await sendLast({ stopped: true, maxRssMb: process.resourceUsage().maxRSS / 1024, idleRssMb, starts, batches, statements });
}

/**
 * Raw BullMQ: adds its share of jobs and processes the queue. Normally the adds start at "go" with
 * the worker already running; with `prefill` every job is added before "ready" and the worker starts
 * at "go", so only the drain is timed (as the peers' drains are).
 */
async function runRaw({ share, offset, concurrency, prefix, prefill = false }: Extract<ChildCommand, { run: "raw" }>) {
  const config = loadConfig(process.env);
  const connection = createRedis({ url: config.REDIS_URL, ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}) }, "worker");
  const queue = new Queue("raw", { connection, prefix });
  let completed = 0;
  const worker = new Worker("raw", async () => {}, { connection, prefix, concurrency, autorun: !prefill });
  worker.on("completed", () => completed++);
  const addAll = async () => {
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
  };
  await worker.waitUntilReady();
  if (prefill) await addAll();
  const progress = reportProgress(() => completed);
  send({ ready: true });
  await nextMessage(); // go
  if (prefill) void worker.run();
  else await addAll();
  await nextMessage(); // stop
  clearInterval(progress);
  await worker.close();
  await queue.close();
  connection.disconnect();
  await sendLast({ stopped: true, maxRssMb: process.resourceUsage().maxRSS / 1024, idleRssMb: 0, starts: [], batches: 0, statements: 0 });
}

// The bench is gone (it failed, or was stopped): nothing will tell this process to stop.
process.once("disconnect", () => process.exit(1));

process.once("message", (command: ChildCommand) => {
  const run = command.run === "outbox" ? runOutbox(command.recordStarts ?? false, command.handlers ?? "noop", command.transactions ?? "pool") : runRaw(command);
  run.then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
