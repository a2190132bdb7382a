export {
  defineEvents,
  InvalidEventError,
  queueNames,
  type AggregateRef,
  type AnyNewEvent,
  type EventCatalog,
  type EventDefinition,
  type EventPolicy,
  type EventTypeOf,
  type Executor,
  type NewEvent,
  type NewEventOf,
  type PayloadOf,
  type Schemas,
  type WorkQueue,
} from "./events/index.ts";
export type { Metrics } from "./metrics/index.ts";
export type { OutboxStatus } from "./outbox/index.ts";
export type { Logger } from "./logger/index.ts";
export {
  batch,
  defineHandlers,
  definePrismaHandlers,
  external,
  HandlerTimeoutError,
  NoHandlerError,
  PermanentError,
  type AtCommit,
  type BatchContext,
  type BatchHandler,
  type EventHandler,
  type ExternalHandler,
  type HandledEvent,
  type HandlerContext,
  type HandlerMap,
  type Outcome,
  type PrismaClientLike,
  type PrismaTransaction,
  type TransactionalHandler,
} from "./processor/index.ts";
export type { Schedule, ScheduleRepeat } from "./schedules/index.ts";
export { Database, sql, type Queryable, type Statement } from "./sql/index.ts";
export { readOutboxMigration } from "./worker/migration.ts";
export type { WorkerSettings } from "./worker/settings.ts";
export { StartAbortedError, startWorker, type HandlerTx, type RunningWorker, type WorkerOptions } from "./worker/worker.ts";
