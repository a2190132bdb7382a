// outbox-relay/webhooks: Standard Webhooks delivery as an optional sink. A service's API registers
// endpoints and reads their attempts; its worker fans events out to them and POSTs them.

// The worker: the catalog's delivery type, the sink, or the parts for a fan-out of one's own.
export { withWebhooks, type WebhookDeliveryPayload, type WebhookDeliverySchemas } from "./delivery-event.ts";
export { webhookHandlers } from "./sink.ts";
export { createWebhookDeliveryHandler, type WebhookDeliveryOptions } from "./delivery.ts";
export { fanOutWebhooks, type WebhookNotification } from "./fan-out.ts";
export { webhookMetrics } from "./metrics.ts";
export type { DisabledEndpoint, FailurePolicy } from "./attempts.ts";


// The API: the event catalog tenants subscribe from, endpoints, their attempts, a resend.
export {
  describeWebhookTypes,
  operationalWebhookTypes,
  webhookTypeNames,
  type WebhookTypeDefinition,
  type WebhookTypeDefinitions,
  type WebhookTypeDescription,
} from "./event-types.ts";
export { createEndpoint, listEndpoints, type EndpointSettings, type EndpointView } from "./endpoints.ts";
export { deleteEndpoint, deletedEndpointReason, disableEndpoint, enableEndpoint, rotateSecret, setRetrySchedule } from "./endpoint-changes.ts";
export { endpointHealth, endpointHealthDefaults, type BreakerState, type EndpointHealth } from "./endpoint-health.ts";
export { allEvents, eventsIssues, urlIssues } from "./endpoint-input.ts";
export { decodeAttemptCursor, encodeAttemptCursor, listAttempts, maxAttemptPageSize, type AttemptPage, type AttemptView } from "./attempt-history.ts";
export { maxResendAll, resendAll, resendMessage, type Resent, type ResendAllInput, type ResendAllResult } from "./resend.ts";
export { decryptSecret, encryptionKeyId, encryptSecret, generateSecret } from "./secrets.ts";
export {
  reencryptSecrets,
  secretKeyReport,
  type EncryptionKeys,
  type ReencryptOptions,
  type ReencryptResult,
  type SecretKeyReport,
} from "./reencrypt.ts";
export { sendTestMessage, testMessageType } from "./test-message.ts";

// The tenant's portal: links the API mints, sessions they open (outbox-relay/fastify's portalPlugin serves the page).
export { mintPortalLink, portalOpenPath, signPortalToken, verifyPortalToken, type PortalGrant, type PortalTokenKind } from "./portal-tokens.ts";
export type { WebhookDatabase } from "./store.ts";

export { webhookDefaults } from "./defaults.ts";
export {
  defaultRetrySchedule,
  parseRetrySchedule,
  retryScheduleLimits,
  retryScheduleProblem,
  waitAfterAttempt,
  type RetrySchedule,
} from "./retry-schedule.ts";
export { endpointDisabledExample, endpointDisabledSchema, endpointDisabledType, type EndpointDisabledData } from "./operational-events.ts";
export {
  AddressRefusedError,
  DeliveryFailedError,
  EncryptionKeyMissingError,
  EndpointDisabledError,
  EndpointLimitError,
  EndpointNotFoundError,
  InvalidEndpointError,
  MessageNotFoundError,
  PortalKeyMissingError,
  ResendTooManyError,
  SecretDecryptionError,
  WebhookError,
  webhookErrorCodes,
  type FieldIssue,
  type WebhookErrorCode,
} from "./errors.ts";
