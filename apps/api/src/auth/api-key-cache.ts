/** What a request needs of its key once it is known to be live. */
export interface LiveKey {
  keyId: string;
  tenantId: string;
  keyHash: string;
}

interface Entry extends LiveKey {
  expiresAt: number;
}

export interface ApiKeyCacheOptions {
  /** API_KEY_CACHE_TTL_MS: an entry is trusted this long after its lookup, then looked up again. 0: nothing is kept. */
  ttlMs: number;
  /** The most entries kept; past it the oldest goes. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Live keys by hash, so that an authenticated request costs no query: bounded (oldest out first)
 * and short-lived (an entry expires `ttlMs` after its lookup, however often it is used, so a key
 * revoked by another API process stops working here within `ttlMs`). Only live keys are kept; a
 * revocation in this process drops its key at once (`forget`).
 */
export class ApiKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor({ ttlMs, maxEntries = 10_000, now = Date.now }: ApiKeyCacheOptions) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(keyHash: string): LiveKey | undefined {
    const entry = this.#entries.get(keyHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(keyHash);
      return undefined;
    }
    return entry;
  }

  remember(key: LiveKey): void {
    if (this.#ttlMs === 0) return;
    this.#entries.delete(key.keyHash);
    while (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key.keyHash, { ...key, expiresAt: this.#now() + this.#ttlMs });
  }

  forget(keyHash: string): void {
    this.#entries.delete(keyHash);
  }
}
