import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/** Every key starts with this: recognisable in a log, a config file or a secret scanner's rules. */
export const apiKeyPrefix = "ok_live_";

/** ok_live_ + 32 random bytes in base64url (43 characters): 256 bits, so a fast hash is enough. */
const apiKeyPattern = /^ok_live_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  id: string;
  /** The key itself: in the 201 answer once, never stored. */
  secret: string;
  /** What is stored: SHA-256 of the key, hex. */
  hash: string;
  /** `ok_live_` and four characters more, to tell keys apart in a list. */
  prefix: string;
}

export function newApiKey(): NewApiKey {
  const secret = `${apiKeyPrefix}${randomBytes(32).toString("base64url")}`;
  return { id: randomUUID(), secret, hash: hashApiKey(secret), prefix: secret.slice(0, apiKeyPrefix.length + 4) };
}

/** Whether a bearer token can be a key at all (a malformed one costs no lookup). */
export function looksLikeApiKey(token: string): boolean {
  return apiKeyPattern.test(token);
}

/**
 * SHA-256, hex. Keys are 256-bit random secrets, so there is nothing for a slow KDF to protect
 * against (no dictionary to try); the hash only keeps the stored value from being a usable key.
 */
export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares two hex hashes in constant time (both are 64 characters). */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}
