export {
  defaultPolicy,
  defineEvents,
  queueNames,
  type AggregateRef,
  type AnyNewEvent,
  type EventCatalog,
  type EventDefinition,
  type EventPolicy,
  type EventTypeOf,
  type NewEventOf,
  type PayloadOf,
  type Schemas,
  type WorkQueue,
} from "./define.ts";
export { execute, query, type Executor } from "./executor.ts";
export type { NewEvent } from "./publish.ts";
export { describeIssues, InvalidEventError } from "./validate.ts";
export { inspectJson, isStorableText, unstorableTextMessage, type JsonInspection } from "./text.ts";
export { activeTraceparent, failSpan, parseTraceparent, traceparentOf } from "./trace-context.ts";
