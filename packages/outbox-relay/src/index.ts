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
  type TransactionalHandler,
} from "./processor/index.ts";
export type { Schedule, ScheduleRepeat } from "./schedules/index.ts";
export { Database, sql, type Queryable, type Statement } from "./sql/index.ts";
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
export { StartAbortedError, startWorker, type RunningWorker, type WorkerOptions } from "./worker/worker.ts";
