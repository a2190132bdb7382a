import { defaultRetrySchedule } from "./retry-schedule.ts";

/** Every default of outbox-relay/webhooks, in one place. */
export const webhookDefaults = {
  /** Endpoints one tenant may have, enabled or disabled. */
  maxEndpointsPerTenant: 10,
  /** How long a rotated-out secret keeps signing beside the new one. */
  rotationGraceMs: 24 * 60 * 60 * 1000,
  /** The deadline of one POST, connect to last body byte. */
  timeoutMs: 30_000,
  /** Waits before each attempt (WEBHOOK_RETRY_SCHEDULE `0,1m,10m,1h,6h`). */
  retrySchedule: defaultRetrySchedule,
  /** Consecutive failed attempts open the breaker for 1 min, doubled per reopening up to 30 min. */
  breaker: { failures: 5, cooldownMs: 60_000, maxCooldownMs: 30 * 60_000 },
  /** An endpoint whose attempts have all failed for 5 days is disabled. */
  disableAfterMs: 5 * 24 * 3_600_000,
  /** Bytes of each answer's body kept in webhook_attempts. */
  maxResponseBytes: 4096,
  /** Deliveries in progress at once in one worker process, per endpoint and per tenant. */
  inFlight: { perEndpoint: 4, perTenant: 10 },
  /** A delivery over an in-flight cap waits `baseMs`, doubled per deferral, up to `maxMs`. */
  deferDelays: { baseMs: 250, maxMs: 5000 },
  /** How long a portal link may wait to be opened. */
  portalLinkTtlMs: 15 * 60 * 1000,
  /** How long the portal session an opened link starts lasts. */
  portalSessionTtlMs: 60 * 60 * 1000,
  userAgent: "outbox-webhooks/1.0 (+https://www.standardwebhooks.com)",
} as const;
