/**
 * Every error outbox-relay/webhooks throws, each with a stable string code. A service's API maps
 * them to status codes; the delivery handler wraps the permanent ones in the processor's PermanentError.
 */
export const webhookErrorCodes = {
  WEBHOOK_ENCRYPTION_KEY_MISSING: "no encryption key is set (encryptionKey), so webhook secrets cannot be stored or read",
  WEBHOOK_SECRET_UNDECRYPTABLE: "a stored webhook secret could not be decrypted (wrong encryption key or tampered value)",
  WEBHOOK_INVALID_ENDPOINT: "the endpoint's url or events are invalid",
  WEBHOOK_ADDRESS_REFUSED: "the endpoint's host is, or resolves to, a refused address",
  WEBHOOK_ENDPOINT_NOT_FOUND: "the endpoint does not exist for this tenant",
  WEBHOOK_ENDPOINT_LIMIT: "the tenant has as many webhook endpoints as maxEndpointsPerTenant allows",
  WEBHOOK_ENDPOINT_DISABLED: "the endpoint is disabled: enable it before resending to it",
  WEBHOOK_MESSAGE_NOT_FOUND: "no such message was sent to this endpoint (or retention has removed it)",
  WEBHOOK_RESEND_TOO_MANY: "a bulk resend matches more deliveries than one call may queue",
  WEBHOOK_DELIVERY_FAILED: "the receiver did not answer with a 2xx (status, timeout, connection error)",
  WEBHOOK_PORTAL_KEY_MISSING: "no signing key is set for the webhook portal, so portal links cannot be minted or opened",
} as const;

export type WebhookErrorCode = keyof typeof webhookErrorCodes;

export abstract class WebhookError extends Error {
  abstract readonly code: WebhookErrorCode;
}

export class EncryptionKeyMissingError extends WebhookError {
  readonly code = "WEBHOOK_ENCRYPTION_KEY_MISSING";
  constructor() {
    super("no encryption key is set: webhook endpoints need one (encryptionKey, at least 32 characters) to encrypt their signing secrets");
    this.name = "EncryptionKeyMissingError";
  }
}

export class PortalKeyMissingError extends WebhookError {
  readonly code = "WEBHOOK_PORTAL_KEY_MISSING";
  constructor() {
    super("no signing key is set: the webhook portal needs one (at least 32 characters) to sign its links and sessions");
    this.name = "PortalKeyMissingError";
  }
}

export class SecretDecryptionError extends WebhookError {
  readonly code = "WEBHOOK_SECRET_UNDECRYPTABLE";
  constructor(reason: string, options?: ErrorOptions) {
    super(`webhook secret cannot be decrypted: ${reason}`, options);
    this.name = "SecretDecryptionError";
  }
}

export interface FieldIssue {
  path: string;
  message: string;
}

export class InvalidEndpointError extends WebhookError {
  readonly code = "WEBHOOK_INVALID_ENDPOINT";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid webhook endpoint: ${issues.map((issue) => `${issue.path} ${issue.message}`).join("; ")}`);
    this.name = "InvalidEndpointError";
  }
}

/**
 * A webhook host that is, or resolves to, a refused address. The message is what the tenant sees
 * (attempt history, the event's last error): for a host name it says only that the name resolves
 * to a non-public address, never which one or in which range, so a tenant cannot map this
 * network's DNS through it. An IP literal the tenant typed is named with its range. The resolved
 * `address` and its `range` stay on the error for the operator's log.
 */
export class AddressRefusedError extends WebhookError {
  readonly code = "WEBHOOK_ADDRESS_REFUSED";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(addressRefusedMessage(host, address, range));
    this.name = "AddressRefusedError";
  }
}

const allowHint = "private networks may be allowed (allowPrivateNetworks) only where receivers are trusted";

function addressRefusedMessage(host: string, address: string, range: string): string {
  if (host === address) return `refused to connect to ${host}: ${range} addresses are not allowed for webhooks; ${allowHint}`;
  return `refused to connect to ${host}: the host resolves to a non-public address, which webhooks may not reach; ${allowHint}`;
}

export class EndpointNotFoundError extends WebhookError {
  readonly code = "WEBHOOK_ENDPOINT_NOT_FOUND";
  constructor(readonly endpointId: string) {
    super(`webhook endpoint ${endpointId} does not exist`);
    this.name = "EndpointNotFoundError";
  }
}

export class EndpointLimitError extends WebhookError {
  readonly code = "WEBHOOK_ENDPOINT_LIMIT";
  constructor(readonly limit: number) {
    super(`this tenant already has ${limit} webhook endpoints, the most allowed; delete one before registering another`);
    this.name = "EndpointLimitError";
  }
}

export class EndpointDisabledError extends WebhookError {
  readonly code = "WEBHOOK_ENDPOINT_DISABLED";
  constructor(
    readonly endpointId: string,
    reason: string | null,
  ) {
    super(`webhook endpoint ${endpointId} is disabled (${reason ?? "no reason given"}); enable it before resending`);
    this.name = "EndpointDisabledError";
  }
}

export class MessageNotFoundError extends WebhookError {
  readonly code = "WEBHOOK_MESSAGE_NOT_FOUND";
  constructor(
    readonly endpointId: string,
    readonly eventId: string,
  ) {
    super(`no webhook message ${eventId} was sent to endpoint ${endpointId}, or it is older than the outbox retention`);
    this.name = "MessageNotFoundError";
  }
}

/** A bulk resend that matches more deliveries than one call may queue. */
export class ResendTooManyError extends WebhookError {
  readonly code = "WEBHOOK_RESEND_TOO_MANY";
  constructor(
    readonly matched: number,
    readonly limit: number,
  ) {
    super(`${matched} deliveries match, more than the ${limit} one resend may queue: resend from a later \`since\` first, then the earlier ones`);
    this.name = "ResendTooManyError";
  }
}

/** A failed attempt worth retrying: a non-2xx answer, a timeout, a connection error. */
export class DeliveryFailedError extends WebhookError {
  readonly code = "WEBHOOK_DELIVERY_FAILED";
  constructor(
    message: string,
    readonly statusCode: number | null,
    options?: ErrorOptions & {
      /**
       * The receiver's Retry-After (429, 503), in ms: the processor's backoff waits at least this
       * long before the next attempt, up to the schedule's longest delay (`outbox-relay/queues`' RetryAfterHint).
       */
      retryAfterMs?: number | null;
      /** The wait before the next attempt, from the retry schedule and Retry-After (`outbox-relay/queues`' RetryDelay). */
      retryDelayMs?: number;
    },
  ) {
    super(message, options);
    this.name = "DeliveryFailedError";
    if (options?.retryAfterMs != null) this.retryAfterMs = options.retryAfterMs;
    if (options?.retryDelayMs !== undefined) this.retryDelayMs = options.retryDelayMs;
  }

  readonly retryAfterMs?: number;
  readonly retryDelayMs?: number;
}
