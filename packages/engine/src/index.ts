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
} from "@outbox/events";
export type { Metrics } from "@outbox/metrics";
export type { OutboxStatus } from "@outbox/outbox";
export type { Logger } from "@outbox/logger";
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
} from "@outbox/processor";
export type { Schedule, ScheduleRepeat } from "@outbox/schedules";
export { Database, sql, type Queryable, type Statement } from "@outbox/sql";
export { migrate, MigrationError, type MigrateOptions, type MigrateResult, type MigrationErrorCode } from "./migrate.ts";
export { readOutboxMigration } from "./migration.ts";
export { migrationsDir } from "./migrations.ts";
export { schemaStatus, type MissingMigration, type SchemaStatus } from "./schema-status.ts";
export type { WorkerSettings } from "./settings.ts";
export { StartAbortedError, startWorker, type RunningWorker, type WorkerOptions } from "./worker.ts";
