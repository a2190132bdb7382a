export { refusedRange } from "./address-guard.ts";
export { recordAttempt, recordFailure, recordSuccess, type AttemptRecord, type DisabledEndpoint } from "./attempts.ts";
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
export {
  createEndpoint,
  defaultEndpointsPerTenantMax,
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
  EndpointLimitError,
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
export { decryptSecret, encryptSecret, generateSecret, secretKeyBytes } from "./secrets.ts";
export { endpointSettingsFromConfig } from "./settings.ts";
