import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from "rate-limiter-flexible";
import type { RedisConnection } from "outbox-relay";

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

/** An IPv6 client is counted by its /64 (one host usually holds a whole /64); IPv4 (mapped or not) by its address. */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  return `${(address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(":")}::/64`;
}

/** User names are attacker's text of any length: counted by a fixed-size digest. */
const userKey = (user: string) => createHash("sha256").update(user).digest("base64url").slice(0, 22);

/** Milliseconds until the count may go on once `res` passed `points`; 0 while it has not. */
const overBy = (res: RateLimiterRes, points: number): number => (res.consumedPoints > points ? Math.max(res.msBeforeNext, 1) : 0);

/**
 * Throttles guessing: authentication attempts are counted per client address (wrong keys, and
 * password attempts until they prove right) and per admin user name (password attempts, every
 * address), in fixed windows (rate-limiter-flexible). A password attempt from an address not known
 * for its user is counted before it is checked, so parallel guesses cannot pass the count together;
 * a right one gives its count back. Past a count, attempts wait for the end of the window: a
 * lockout lasts one window at most. An address that logged in as a user in the last day is not
 * held back by that user's count.
 */
export class FailedLogins {
  private readonly byAddress: RateLimiterAbstract;
  private readonly byUser: RateLimiterAbstract;
  private readonly knownAddresses = new Map<string, number>();

  constructor(private readonly options: FailedLoginOptions) {
    this.byAddress = counter(options, "address", options.perAddress);
    this.byUser = counter(options, "user", options.perUser);
  }

  /**
   * Before a password is checked: counts the attempt (per address and per user name) and resolves
   * to the milliseconds to wait when it is over a count (then it must not be checked), else 0. An
   * address that logged in as this user lately is not counted ahead (parallel requests of a real
   * admin would trip the count); only its wrong passwords count, in `afterPassword`.
   */
  async beforePassword(ip: string, user: string): Promise<{ waitMs: number; counted: boolean }> {
    const address = addressKey(ip);
    if (this.isKnown(user, address)) {
      const res = await this.byAddress.get(address);
      return { waitMs: res ? overBy(res, this.options.perAddress - 1) : 0, counted: false };
    }
    const byAddress = overBy(await this.byAddress.penalty(address), this.options.perAddress);
    if (byAddress > 0) return { waitMs: byAddress, counted: true };
    return { waitMs: overBy(await this.byUser.penalty(userKey(user)), this.options.perUser), counted: true };
  }

  /** After a password was checked: a right one gives its counts back and makes its address known for a day; a wrong one is counted if it was not yet. */
  async afterPassword(ip: string, user: string, right: boolean, counted: boolean): Promise<void> {
    const address = addressKey(ip);
    if (!right) {
      if (!counted) await this.byAddress.penalty(address);
      return;
    }
    if (counted) await Promise.all([this.byAddress.reward(address), this.byUser.reward(userKey(user))]);
    const key = `${user}\n${address}`;
    this.knownAddresses.delete(key);
    this.knownAddresses.set(key, Date.now() + knownAddressTtlMs);
    if (this.knownAddresses.size > knownAddressesMax) this.knownAddresses.delete(this.knownAddresses.keys().next().value!);
  }

  /** A wrong API key: counted against its address; resolves to the milliseconds to wait when it is over the count, else 0. */
  async wrongKey(ip: string): Promise<number> {
    return overBy(await this.byAddress.penalty(addressKey(ip)), this.options.perAddress);
  }

  private isKnown(user: string, address: string): boolean {
    const until = this.knownAddresses.get(`${user}\n${address}`);
    return until !== undefined && until > Date.now();
  }
}
