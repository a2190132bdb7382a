export { StartAbortedError, type RunningWorker } from "@outbox/engine";
export { orderHandlers, startWorker, type WorkerOptions } from "./runtime.ts";
export { stopOnSignals } from "./signals.ts";
