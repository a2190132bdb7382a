export { refusedRange } from "./address-guard.ts";
export { createWebhookDeliveryHandler, defaultUserAgent, type WebhookDeliveryOptions } from "./delivery.ts";
export type { DisabledEndpoint } from "./attempts.ts";
export { allEvents, eventsIssues, subscribes, urlIssues, type EventFilter } from "./endpoint-input.ts";
export {
  decodeAttemptCursor,
  encodeAttemptCursor,
  listAttempts,
  maxAttemptPageSize,
  requireOwnedEndpoint,
  type AttemptPage,
  type AttemptView,
} from "./attempt-history.ts";
export { resendMessage, type Resent } from "./resend.ts";
export { parseRetryAfter, retryAfterStatuses } from "./retry-after.ts";
export {
  createEndpoint,
  defaultRotationGraceMs,
  deleteEndpoint,
  deletedEndpointReason,
  disableEndpoint,
  enableEndpoint,
  listEndpoints,
  rotateSecret,
  subscribedEndpoints,
  type EndpointSettings,
  type EndpointView,
} from "./endpoints.ts";
export {
  AddressRefusedError,
  DeliveryFailedError,
  EncryptionKeyMissingError,
  EndpointDisabledError,
  EndpointNotFoundError,
  InvalidEndpointError,
  MessageNotFoundError,
  SecretDecryptionError,
  TenantNotFoundError,
  WebhookError,
  webhookErrorCodes,
  type FieldIssue,
  type WebhookErrorCode,
} from "./errors.ts";
export { decryptSecret, encryptSecret, generateSecret } from "./secrets.ts";
export { signatureHeader } from "./signing.ts";
export { deliveryOptionsFromConfig, endpointSettingsFromConfig } from "./settings.ts";
