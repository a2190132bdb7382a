export { StartAbortedError, startWorker, type RunningWorker, type WorkerOptions } from "./runtime.ts";
export { stopOnSignals } from "./signals.ts";
