import type { EventCatalog } from "../events/index.ts";
import type { PrismaClientLike } from "../processor/prisma-transaction.ts";
import type { RunningWorker, WorkerOptions } from "./worker.ts";

/**
 * Starts the worker (see worker.ts). Its modules load on the first call, so a process that only
 * publishes or administers (an API importing this package's entry point) never loads the relay,
 * the processor or BullMQ's workers.
 */
export async function startWorker<C extends EventCatalog, P extends PrismaClientLike | undefined = undefined>(options: WorkerOptions<C, P>): Promise<RunningWorker> {
  const worker = await import("./worker.ts");
  return worker.startWorker(options);
}
