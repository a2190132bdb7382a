export {
  batch,
  type AnyHandlerMap,
  type AtCommit,
  defineHandlers,
  external,
  type BatchContext,
  type BatchHandler,
  type EventHandler,
  type ExternalHandler,
  type HandledEvent,
  type HandlerContext,
  type HandlerMap,
  type TransactionalHandler,
} from "./handler.ts";
export { DeferredError, HandlerTimeoutError, NoHandlerError, PermanentError } from "./errors.ts";
export type { EventJob, Outcome } from "./outcome.ts";
export { runBatch } from "./run-batch.ts";
export { EventProcessor, type ProcessorOptions } from "./processor.ts";
