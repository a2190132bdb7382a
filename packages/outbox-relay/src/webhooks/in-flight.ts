/**
 * Deliveries in progress in this worker process, per endpoint and per tenant, with their caps
 * (the delivery's `inFlight` option). The slots protected are this process's webhook concurrency
 * (startWorker's `webhookConcurrency`), so the counts are this process's too: N worker processes let an
 * endpoint have N times its cap in flight. Taking a slot is synchronous (check and count in one
 * step of the event loop), so two deliveries cannot both take the last one.
 */
export class InFlightLimits {
  private readonly byEndpoint = new Map<string, number>();
  private readonly byTenant = new Map<string, number>();

  constructor(private readonly caps: { perEndpoint: number; perTenant: number }) {}

  /**
   * Takes a slot for the endpoint and its tenant and returns its release, or null when either cap
   * is full. Endpoints of no tenant (null) have the endpoint's cap only.
   */
  tryAcquire(tenantId: string | null, endpointId: string): (() => void) | null {
    if ((this.byEndpoint.get(endpointId) ?? 0) >= this.caps.perEndpoint) return null;
    if (tenantId !== null && (this.byTenant.get(tenantId) ?? 0) >= this.caps.perTenant) return null;
    add(this.byEndpoint, endpointId, 1);
    if (tenantId !== null) add(this.byTenant, tenantId, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      add(this.byEndpoint, endpointId, -1);
      if (tenantId !== null) add(this.byTenant, tenantId, -1);
    };
  }

  /** Deliveries in progress to one endpoint (for tests and metrics). */
  endpointCount(endpointId: string): number {
    return this.byEndpoint.get(endpointId) ?? 0;
  }
}

function add(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}

/**
 * How long a delivery over a cap waits before it tries again: `baseMs` doubled per deferral of the
 * same event in this process, up to `maxMs`, with ±25 % jitter so that a crowd of waiting
 * deliveries does not wake together. A long queue behind a slow endpoint thus costs a few wake-ups
 * per second, not a busy loop.
 */
export class DeferDelays {
  private readonly deferrals = new Map<string, number>();

  constructor(private readonly delays: { baseMs: number; maxMs: number; maxTracked?: number }) {}

  next(eventId: string): number {
    const count = this.deferrals.get(eventId) ?? 0;
    this.deferrals.delete(eventId);
    this.deferrals.set(eventId, count + 1);
    // Entries of events that ran on another process are never cleared: the least recently deferred go first.
    if (this.deferrals.size > (this.delays.maxTracked ?? 10_000)) this.deferrals.delete(this.deferrals.keys().next().value!);
    const delay = Math.min(this.delays.maxMs, this.delays.baseMs * 2 ** count);
    return Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  /** The event got its slot: its next deferral starts from the base again. */
  started(eventId: string): void {
    this.deferrals.delete(eventId);
  }
}
