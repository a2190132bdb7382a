export * as schemas from "./schemas.ts";
export type { Address, WebhookType } from "./schemas.ts";
export { webhookTypes } from "./schemas.ts";
export {
  defaultPolicy,
  eventCatalog,
  eventTypes,
  isEventType,
  policyOf,
  queueNames,
  unorderedEventTypes,
  type EventPayload,
  type EventPayloads,
  type EventPolicy,
  type EventType,
  type WorkQueue,
} from "./catalog.ts";
export { describeIssues, InvalidEventError, parseEvent } from "./validate.ts";
export { inspectJson, isStorableText, unstorableTextMessage, type JsonInspection } from "./text.ts";
