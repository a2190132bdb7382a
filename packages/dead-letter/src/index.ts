export { clearJobs, sendToDeadLetter } from "./queue.ts";
export { DeadLetterError, listDead, retryAllDead, retryDead, skipDead, type DeadEvent } from "./operations.ts";
export { startDeadLetterWorker } from "./worker.ts";
