import type { EventCatalog } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import { DeferredError, PermanentError } from "../processor/errors.ts";
import { external, type ExternalHandler, type HandledEvent } from "../processor/handler.ts";
import { sql, type Database, type Queryable } from "../sql/index.ts";
import { claimProbe, recordAttempt, recordFailure, recordSuccess, type DisabledEndpoint, type FailurePolicy } from "./attempts.ts";
import { webhookDefaults } from "./defaults.ts";
import { deliveryType, type WebhookDeliverySchemas } from "./delivery-event.ts";
import { AddressRefusedError, DeliveryFailedError, WebhookError } from "./errors.ts";
import { fanOutWebhooks } from "./fan-out.ts";
import { DeferDelays, InFlightLimits } from "./in-flight.ts";
import { endpointDisabledType, type EndpointDisabledData } from "./operational-events.ts";
import { parseRetryAfter, retryAfterStatuses } from "./retry-after.ts";
import { decryptSecret } from "./secrets.ts";
import { signatureHeader } from "./signing.ts";
import { postOnce, type PostResult } from "./transport.ts";
import { releaseResendChain, resendAggregateType } from "./resend.ts";
import { waitAfterAttempt, type RetrySchedule } from "./retry-schedule.ts";

export interface WebhookDeliveryOptions {
  /** The key the endpoints' secrets were encrypted with (EndpointSettings' encryptionKey). */
  encryptionKey: string | undefined;
  /** Keys secrets may still be under while a key rotation runs (read only; see reencryptSecrets). */
  previousEncryptionKeys?: readonly string[];
  /** When false, loopback, private, link-local and metadata addresses are refused at every delivery. */
  allowPrivateNetworks: boolean;
  /** The deadline of one POST, connect to last body byte (default `webhookDefaults.timeoutMs`). */
  timeoutMs?: number;
  /** Waits before each attempt, in ms (default `webhookDefaults.retrySchedule`, `0,1m,10m,1h,6h`); an endpoint's own schedule wins. */
  retrySchedule?: RetrySchedule;
  /** The circuit breaker: consecutive failed attempts that open it, and its cooldown (default `webhookDefaults.breaker`). */
  breaker?: FailurePolicy["breaker"];
  /** An endpoint whose attempts have all failed for this long is disabled (default `webhookDefaults.disableAfterMs`, 5 days). */
  disableAfterMs?: number;
  /** Bytes of each response body kept in webhook_attempts. */
  maxResponseBytes?: number;
  userAgent?: string;
  /** Called once when an endpoint is disabled (410 Gone, or failing too long): the metric hook. */
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
    } catch (error) {
      if (error instanceof PermanentError && event.aggregateType === resendAggregateType) await releaseResendChain(db, event.id);
      throw error;
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
  retrySchedule: number[] | null;
  /** Milliseconds until the breaker's cooldown ends (≤ 0: a probe may go); null when closed. */
  breakerOpenForMs: number | null;
}

/** deliveryTarget: $1 the endpoint id. What one delivery needs of its endpoint; reads the primary key, no lock. */
async function deliveryTarget(db: Queryable, endpointId: string): Promise<DeliveryTarget | undefined> {
  const [row] = await db.query<DeliveryTarget>(sql`
    SELECT tenant_id::text AS "tenantId", url, enabled, disabled_reason AS "disabledReason", secret_encrypted AS "secretEncrypted",
      previous_secret_encrypted AS "previousSecretEncrypted", previous_secret_expires_at AS "previousSecretExpiresAt",
      retry_schedule AS "retrySchedule",
      (extract(epoch FROM breaker_open_until - now()) * 1000)::float8 AS "breakerOpenForMs"
    FROM webhook_endpoints WHERE id = ${endpointId}::uuid`);
  return row;
}

/** A delivery that may not be sent yet: no attempt is spent, its job waits `delayMs` (±10 %). */
class NotYet extends DeferredError {
  constructor(reason: string, delayMs: number) {
    const jittered = Math.max(50, Math.round(delayMs * (0.95 + Math.random() * 0.1)));
    super(`${reason}; delivery deferred ${jittered} ms`, jittered);
  }
}

/**
 * Whether the delivery may go now. Its first wait counts from its creation. An open breaker holds
 * every delivery to the endpoint until its cooldown ends; then one of them claims the probe (the
 * others wait while it runs). Returns whether this attempt is the probe.
 */
async function mayGoNow(db: Database, event: DeliveryEvent, endpoint: DeliveryTarget, schedule: RetrySchedule, probeHoldMs: number): Promise<{ probe: boolean }> {
  const { endpointId } = event.payload;
  if (event.attempt === 1 && schedule[0]! > 0) {
    const dueInMs = event.createdAt.getTime() + schedule[0]! - Date.now();
    if (dueInMs > 0) throw new NotYet("the retry schedule's first wait is not over", dueInMs);
  }
  if (endpoint.breakerOpenForMs === null) return { probe: false };
  if (endpoint.breakerOpenForMs > 0) throw new NotYet(`the circuit breaker of webhook endpoint ${endpointId} is open`, endpoint.breakerOpenForMs);
  if (!(await claimProbe(db, endpointId, probeHoldMs))) throw new NotYet(`webhook endpoint ${endpointId} is being probed`, Math.min(probeHoldMs, 10_000));
  return { probe: true };
}

async function deliver(db: Database, event: DeliveryEvent, logger: Logger, options: WebhookDeliveryOptions): Promise<void> {
  const { endpointId, tenantId } = event.payload;
  const now = options.now?.() ?? new Date();
  const endpoint = await deliveryTarget(db, endpointId);
  if (!endpoint || endpoint.tenantId !== tenantId) throw new PermanentError(`webhook endpoint ${endpointId} no longer exists`);
  if (!endpoint.enabled) throw new PermanentError(`webhook endpoint ${endpointId} is disabled: ${endpoint.disabledReason ?? "no reason given"}`);
  const schedule = endpoint.retrySchedule?.length ? endpoint.retrySchedule : (options.retrySchedule ?? webhookDefaults.retrySchedule);
  const timeoutMs = options.timeoutMs ?? webhookDefaults.timeoutMs;
  const { probe } = await mayGoNow(db, event, endpoint, schedule, timeoutMs + 5000);
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
    timeoutMs,
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
  const log = logger.child({ endpointId, attempt: event.attempt, statusCode: result.statusCode, durationMs: result.durationMs, probe });

  if (success) {
    await recordSuccess(db, endpointId);
    log.debug("webhook delivered");
    return;
  }
  const gone = result.statusCode === 410;
  const recorded = await recordFailureAndNotify(db, event, options, { disableNow: gone ? "the receiver answered 410 Gone" : null, probe });
  if (recorded.disabled) {
    log.warn({ tenantId, reason: recorded.disabled.reason, consecutiveFailures: recorded.disabled.consecutiveFailures }, "webhook endpoint disabled");
    options.onEndpointDisabled?.(recorded.disabled);
  }
  if (recorded.breakerOpenUntil) log.info({ breakerOpenUntil: recorded.breakerOpenUntil }, "webhook endpoint's circuit breaker is open");
  log.info({ err: result.error ?? undefined, ...operatorDetail(result.error) }, `webhook attempt failed: ${error}`);
  const cause = { cause: result.error ?? undefined };
  if (gone || result.error instanceof WebhookError || recorded.disabled) throw new PermanentError(`webhook to endpoint ${endpointId} failed for good: ${error}`, cause);
  const waitMs = waitAfterAttempt(schedule, event.attempt, retryAfterMs);
  // Past the schedule (an admin retried the dead delivery): that one attempt was the last too.
  if (waitMs === null) throw new PermanentError(`webhook to endpoint ${endpointId} failed on its last attempt (${event.attempt} of ${schedule.length}): ${error}`, cause);
  throw new DeliveryFailedError(`webhook to endpoint ${endpointId} failed: ${error}`, result.statusCode, { ...cause, retryAfterMs, retryDelayMs: waitMs });
}

/**
 * Records the failed attempt and, when it disabled the endpoint, tells the tenant's endpoints
 * subscribed to `endpoint.disabled`, in the same transaction: the notice exists exactly when the
 * endpoint is disabled.
 */
async function recordFailureAndNotify(
  db: Database,
  event: DeliveryEvent,
  options: WebhookDeliveryOptions,
  how: { disableNow: string | null; probe: boolean },
): Promise<Awaited<ReturnType<typeof recordFailure>>> {
  const policy = { breaker: options.breaker ?? webhookDefaults.breaker, disableAfterMs: options.disableAfterMs ?? webhookDefaults.disableAfterMs };
  return db.transaction(async (tx) => {
    const recorded = await recordFailure(tx, event.payload.endpointId, policy, how);
    if (recorded.disabled) await fanOutWebhooks(tx, [{ sourceEventId: event.id, tenantId: recorded.disabled.tenantId, type: endpointDisabledType, data: disabledNotice(recorded.disabled) }]);
    return recorded;
  });
}

function disabledNotice(disabled: DisabledEndpoint): EndpointDisabledData {
  return {
    endpointId: disabled.endpointId,
    url: disabled.url,
    reason: disabled.reason,
    disabledAt: disabled.disabledAt.toISOString(),
    failingSince: disabled.failingSince?.toISOString() ?? null,
  };
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
