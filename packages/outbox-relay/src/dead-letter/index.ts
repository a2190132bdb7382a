export { clearJobs, sendToDeadLetter } from "./queue.ts";
export { DeadLetterError, listDead, retryAllDead, retryDead, skipDead, type DeadEvent, type ReleaseOptions } from "./operations.ts";
export { queueReleased, ReleaseNotQueuedError } from "./release.ts";
export { startDeadLetterWorker } from "./worker.ts";
