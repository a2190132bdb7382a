import type { EventCatalog } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { DeferredError, PermanentError } from "../processor/errors.ts";
import { external, type ExternalHandler, type HandledEvent } from "../processor/handler.ts";
import { sql, type Queryable } from "../sql/index.ts";
import { recordAttempt, recordFailure, recordSuccess, type DisabledEndpoint } from "./attempts.ts";
import { webhookDefaults } from "./defaults.ts";
import { deliveryType, webhookDeliveries, type WebhookDeliverySchemas } from "./delivery-event.ts";
import { AddressRefusedError, DeliveryFailedError, WebhookError } from "./errors.ts";
import { DeferDelays, InFlightLimits } from "./in-flight.ts";
import { parseRetryAfter, retryAfterStatuses } from "./retry-after.ts";
import { decryptSecret } from "./secrets.ts";
import { signatureHeader } from "./signing.ts";
import { postOnce, type PostResult } from "./transport.ts";

export interface WebhookDeliveryOptions {
  /** The key the endpoints' secrets were encrypted with (EndpointSettings' encryptionKey). */
  encryptionKey: string | undefined;
  /** Keys secrets may still be under while a key rotation runs (read only; see reencryptSecrets). */
  previousEncryptionKeys?: readonly string[];
  /** When false, loopback, private, link-local and metadata addresses are refused at every delivery. */
  allowPrivateNetworks: boolean;
  /** The deadline of one POST, connect to last body byte (default `webhookDefaults.timeoutMs`). */
  timeoutMs?: number;
  /**
   * Consecutive failed deliveries (a delivery fails when its last attempt does, or at once for a
   * permanent failure) after which the endpoint is disabled (default `webhookDefaults.disableAfterFailures`).
   */
  disableAfterFailures?: number;
  /** Bytes of each response body kept in webhook_attempts. */
  maxResponseBytes?: number;
  userAgent?: string;
  /** Called once when an endpoint is disabled (410 Gone, or too many failures): the metric hook. */
  onEndpointDisabled?: (endpoint: DisabledEndpoint) => void;
  /** Called after every attempt: the metric hook for counts and durations. */
  onAttempt?: (attempt: { endpointId: string; success: boolean; statusCode: number | null; durationMs: number }) => void;
  /** Deliveries in progress at once in this process, per endpoint and per tenant; one over a cap is deferred (its job goes back to delayed). */
  inFlight?: { perEndpoint: number; perTenant: number };
  /** How long a deferred delivery waits: `baseMs` doubled per deferral, up to `maxMs`. */
  deferDelays?: { baseMs: number; maxMs: number };
  /** The clock, for tests. */
  now?: () => Date;
}

type DeliveryCatalog = EventCatalog<WebhookDeliverySchemas>;
type DeliveryEvent = HandledEvent<DeliveryCatalog, typeof deliveryType>;

/**
 * The handler of `WebhookDelivery` events: one signed POST to one endpoint. It runs outside any
 * transaction; each attempt is recorded in its own small write. A non-2xx answer or a network
 * error throws a retryable DeliveryFailedError (the processor owns the backoff); a 410 Gone, a
 * refused address, a disabled or deleted endpoint, or an undecryptable secret throws PermanentError.
 * A delivery whose endpoint or tenant has its cap of deliveries in progress (in this process)
 * throws DeferredError before anything is read or sent: the processor puts its job back to delayed
 * without spending an attempt, so one tenant's slow endpoints cannot hold every delivery slot.
 */
export function createWebhookDeliveryHandler(options: WebhookDeliveryOptions): ExternalHandler<DeliveryCatalog, typeof deliveryType> {
  const limits = new InFlightLimits(options.inFlight ?? webhookDefaults.inFlight);
  const delays = new DeferDelays(options.deferDelays ?? webhookDefaults.deferDelays);
  return external<DeliveryCatalog, typeof deliveryType>(async ({ db, event, logger }) => {
    const { endpointId, tenantId } = event.payload;
    const release = limits.tryAcquire(tenantId, endpointId);
    if (!release) throw deferral(event.id, endpointId, delays.next(event.id), logger);
    delays.started(event.id);
    try {
      await deliver(db, event, logger, options);
    } finally {
      release();
    }
  });
}

/** A delivery over its endpoint's or tenant's cap: not sent, not an attempt, tried again after `delayMs`. */
function deferral(eventId: string, endpointId: string, delayMs: number, logger: Logger): DeferredError {
  logger.debug({ eventId, endpointId, delayMs }, "webhook delivery deferred: its endpoint or tenant has as many deliveries in progress as allowed");
  return new DeferredError(`webhook endpoint ${endpointId} or its tenant is at its in-flight cap; delivery deferred ${delayMs} ms`, delayMs);
}

interface DeliveryTarget {
  tenantId: string | null;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
}

/** deliveryTarget: $1 the endpoint id. What one delivery needs of its endpoint; reads the primary key, no lock. */
async function deliveryTarget(db: Queryable, endpointId: string): Promise<DeliveryTarget | undefined> {
  const [row] = await db.query<DeliveryTarget>(sql`
    SELECT tenant_id::text AS "tenantId", url, enabled, disabled_reason AS "disabledReason", secret_encrypted AS "secretEncrypted",
      previous_secret_encrypted AS "previousSecretEncrypted", previous_secret_expires_at AS "previousSecretExpiresAt"
    FROM webhook_endpoints WHERE id = ${endpointId}::uuid`);
  return row;
}

async function deliver(db: Queryable, event: DeliveryEvent, logger: Logger, options: WebhookDeliveryOptions): Promise<void> {
  const { endpointId, tenantId } = event.payload;
  const now = options.now?.() ?? new Date();
  const endpoint = await deliveryTarget(db, endpointId);
  if (!endpoint || endpoint.tenantId !== tenantId) throw new PermanentError(`webhook endpoint ${endpointId} no longer exists`);
  if (!endpoint.enabled) throw new PermanentError(`webhook endpoint ${endpointId} is disabled: ${endpoint.disabledReason ?? "no reason given"}`);
  // A resend carries the original's message id: Standard Webhooks keeps `webhook-id` for the same message.
  const webhookId = event.payload.webhookId ?? event.id;
  const attempt = { endpointId, eventId: event.id, webhookId, attempt: event.attempt };

  let secrets: string[];
  try {
    secrets = [decryptSecret(endpoint.secretEncrypted, options.encryptionKey, options.previousEncryptionKeys)];
    if (endpoint.previousSecretEncrypted && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
      secrets.push(decryptSecret(endpoint.previousSecretEncrypted, options.encryptionKey, options.previousEncryptionKeys));
    }
  } catch (error) {
    if (!(error instanceof WebhookError)) throw error;
    await recordAttempt(db, { ...attempt, statusCode: null, durationMs: 0, error: error.message, responseBody: null });
    throw new PermanentError(`${error.message}; nothing was sent`, { cause: error });
  }

  const body = JSON.stringify({ type: event.payload.type, timestamp: event.payload.occurredAt, data: event.payload.data });
  const timestamp = Math.floor(now.getTime() / 1000);
  const result = await postOnce({
    url: endpoint.url,
    body,
    timeoutMs: options.timeoutMs ?? webhookDefaults.timeoutMs,
    allowPrivateNetworks: options.allowPrivateNetworks,
    maxResponseBytes: options.maxResponseBytes ?? webhookDefaults.maxResponseBytes,
    headers: {
      "content-type": "application/json",
      "user-agent": options.userAgent ?? webhookDefaults.userAgent,
      "webhook-id": webhookId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureHeader(secrets, webhookId, timestamp, body),
    },
  });
  const success = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const retryAfterMs = result.statusCode !== null && retryAfterStatuses.has(result.statusCode) ? parseRetryAfter(result.retryAfter, now) : null;
  const error = success ? null : describeFailure(result, retryAfterMs);
  await recordAttempt(db, { ...attempt, statusCode: result.statusCode, durationMs: result.durationMs, error, responseBody: result.responseBody });
  options.onAttempt?.({ endpointId, success, statusCode: result.statusCode, durationMs: result.durationMs });
  const log = logger.child({ endpointId, attempt: event.attempt, statusCode: result.statusCode, durationMs: result.durationMs });

  if (success) {
    await recordSuccess(db, endpointId);
    log.debug("webhook delivered");
    return;
  }
  const gone = result.statusCode === 410;
  const refused = result.error instanceof WebhookError;
  const deliveryFailed = gone || refused || event.attempt >= webhookDeliveries.policyOf(deliveryType).attempts;
  const disabled = deliveryFailed
    ? await recordFailure(db, endpointId, {
        disableAfterFailures: options.disableAfterFailures ?? webhookDefaults.disableAfterFailures,
        disableNow: gone ? "the receiver answered 410 Gone" : null,
      })
    : null;
  if (disabled) {
    log.warn({ tenantId, reason: disabled.reason, consecutiveFailures: disabled.consecutiveFailures }, "webhook endpoint disabled");
    options.onEndpointDisabled?.(disabled);
  }
  log.info({ err: result.error ?? undefined, ...operatorDetail(result.error) }, `webhook attempt failed: ${error}`);
  if (gone || refused || disabled) throw new PermanentError(`webhook to endpoint ${endpointId} failed for good: ${error}`, { cause: result.error ?? undefined });
  throw new DeliveryFailedError(`webhook to endpoint ${endpointId} failed: ${error}`, result.statusCode, { cause: result.error ?? undefined, retryAfterMs });
}

/** What only the operator's log gets: the address a refused host resolved to, and its range. */
function operatorDetail(error: Error | null): Record<string, string> {
  return error instanceof AddressRefusedError ? { refusedAddress: error.address, refusedRange: error.range } : {};
}

/**
 * A failed connection as the tenant reads it: Node's system errors name the peer's address
 * ("connect ECONNREFUSED 10.1.2.3:443"), so only their syscall and code are kept.
 */
function connectionFailure(error: Error): string {
  const { syscall, code } = error as NodeJS.ErrnoException;
  if (typeof syscall === "string" && typeof code === "string") return `could not reach the receiver: ${syscall} ${code}`;
  return error.message;
}

function describeFailure(result: PostResult, retryAfterMs: number | null): string {
  if (result.error) return connectionFailure(result.error);
  const status = result.statusCode ?? 0;
  if (status >= 300 && status < 400) return `the receiver answered ${status} (a redirect, not followed: update the endpoint's URL)`;
  if (retryAfterMs !== null) return `the receiver answered ${status} with Retry-After: ${result.retryAfter} (the next attempt waits at least ${retryAfterMs} ms, up to the schedule's longest delay)`;
  return `the receiver answered ${status}`;
}
