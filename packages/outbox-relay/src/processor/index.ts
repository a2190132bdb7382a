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
export type { BatchTransaction, BeginBatch, RunBound } from "./batch-transaction.ts";
export { definePrismaHandlers, prismaTransactions, type PrismaClientLike, type PrismaTransaction } from "./prisma-transaction.ts";
export { EventProcessor, type ProcessorOptions } from "./processor.ts";
