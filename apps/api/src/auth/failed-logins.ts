import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from "rate-limiter-flexible";
import type { RedisConnection } from "@outbox/queues";

export interface FailedLoginOptions {
  /** AUTH_FAILURES_PER_ADDRESS_MAX: failed authentications one client address may make per window. */
  perAddress: number;
  /** AUTH_FAILURES_PER_USER_MAX: failed admin logins per user name (every address) per window. */
  perUser: number;
  /** AUTH_FAILURE_WINDOW_MS. */
  windowMs: number;
  /** With API_RATE_LIMIT_STORE=redis: counts shared by every API process (memory if Redis fails). */
  redis?: { connection: RedisConnection; prefix: string };
}

/** How many addresses are remembered as having logged in as a user (the oldest are forgotten first). */
const knownAddressesMax = 10_000;
const knownAddressTtlMs = 24 * 3600_000;

function counter(options: FailedLoginOptions, name: string, points: number): RateLimiterAbstract {
  const shape = { points, duration: Math.ceil(options.windowMs / 1000), keyPrefix: `auth-failures-${name}` };
  const memory = new RateLimiterMemory(shape);
  if (!options.redis) return memory;
  return new RateLimiterRedis({ ...shape, keyPrefix: `${options.redis.prefix}:${shape.keyPrefix}`, storeClient: options.redis.connection, insuranceLimiter: memory });
}

const blockedFor = (res: RateLimiterRes | null, points: number): number => (res && res.consumedPoints >= points ? Math.max(res.msBeforeNext, 1) : 0);

/**
 * Throttles guessing: failed authentications are counted per client address (keys and passwords)
 * and per admin user name (passwords, every address), in fixed windows (rate-limiter-flexible).
 * Past a count, the address or the user name waits for the end of the window: a lockout lasts one
 * window at most. An address that logged in as a user in the last day is not held back by that
 * user's count, so an attacker elsewhere cannot lock the real admin out.
 */
export class FailedLogins {
  private readonly byAddress: RateLimiterAbstract;
  private readonly byUser: RateLimiterAbstract;
  private readonly knownAddresses = new Map<string, number>();

  constructor(private readonly options: FailedLoginOptions) {
    this.byAddress = counter(options, "address", options.perAddress);
    this.byUser = counter(options, "user", options.perUser);
  }

  /** Milliseconds until this address (and, for a password, this user name) may try again; 0: now. */
  async waitMs(address: string, user?: string): Promise<number> {
    const addressWait = blockedFor(await this.byAddress.get(address), this.options.perAddress);
    if (addressWait > 0 || user === undefined || this.isKnown(user, address)) return addressWait;
    return blockedFor(await this.byUser.get(user), this.options.perUser);
  }

  async failed(address: string, user?: string): Promise<void> {
    await Promise.all([
      this.byAddress.penalty(address),
      ...(user === undefined ? [] : [this.byUser.penalty(user)]),
    ]);
  }

  succeeded(address: string, user: string): void {
    const key = `${user}\n${address}`;
    this.knownAddresses.delete(key);
    this.knownAddresses.set(key, Date.now() + knownAddressTtlMs);
    if (this.knownAddresses.size > knownAddressesMax) this.knownAddresses.delete(this.knownAddresses.keys().next().value!);
  }

  private isKnown(user: string, address: string): boolean {
    const until = this.knownAddresses.get(`${user}\n${address}`);
    return until !== undefined && until > Date.now();
  }
}
