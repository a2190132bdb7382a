// `outbox-relay`: what a service imports to publish and handle events and to run the worker. Every
// module here is light; the worker's own (relay, processor, BullMQ workers) load when startWorker
// is first called.
export {
  defineEvents,
  failSpan,
  inspectJson,
  InvalidEventError,
  isStorableText,
  parseTraceparent,
  queueNames,
  traceparentOf,
  unstorableTextMessage,
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
export {
  batch,
  defineHandlers,
  external,
  type AnyHandlerMap,
  type AtCommit,
  type BatchContext,
  type BatchHandler,
  type EventHandler,
  type ExternalHandler,
  type HandledEvent,
  type HandlerContext,
  type HandlerMap,
  type TransactionalHandler,
} from "./processor/handler.ts";
export { DeferredError, HandlerTimeoutError, NoHandlerError, PermanentError } from "./processor/errors.ts";
export type { Outcome } from "./processor/outcome.ts";
export { definePrismaHandlers, type PrismaClientLike, type PrismaTransaction } from "./processor/prisma-transaction.ts";
export { Connection, Database, empty, isConnectionError, isTransientError, join, raw, sql, type DatabaseOptions, type Queryable, type Statement } from "./sql/index.ts";
export { createRedis, type RedisConnection, type RedisSettings } from "./queues/connection.ts";
export { createLogger, maskUrlCredentials, type Logger } from "./logger/index.ts";
export { onStopSignals } from "./shutdown/index.ts";
export type { Metrics } from "./metrics/index.ts";
export type { OutboxStatus } from "./outbox/index.ts";
export type { Schedule, ScheduleRepeat } from "./schedules/index.ts";
export {
  migrate,
  migrationsDir,
  MigrationError,
  readOutboxMigration,
  schemaStatus,
  type MigrateOptions,
  type MigrateResult,
  type MigrationErrorCode,
  type MissingMigration,
  type SchemaStatus,
} from "./schema/index.ts";
export type { WorkerSettings } from "./worker/settings.ts";
export { StartAbortedError } from "./worker/errors.ts";
export { startWorker } from "./worker/start.ts";
export type { HandlerTx, RunningWorker, WorkerOptions } from "./worker/worker.ts";
