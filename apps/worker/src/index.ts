export { StartAbortedError, type RunningWorker } from "outbox-relay";
export { orderHandlers, startWorker, type WorkerOptions } from "./runtime.ts";
export { stopOnSignals } from "./signals.ts";
