import { createHash, timingSafeEqual } from "node:crypto";
import type { Database } from "outbox-relay";
import { basicCredentials, isAdmin, type AdminCredentials } from "./admin-credentials.ts";
import { hashApiKey, looksLikeApiKey, sameHash } from "./api-key-format.ts";
import type { ApiKeyCache } from "./api-key-cache.ts";
import { findApiKey } from "./api-key-store.ts";
import type { Caller } from "./caller.ts";

export interface Credentials {
  db: Database;
  admin: AdminCredentials;
  keys: ApiKeyCache;
  /** METRICS_TOKEN: a bearer token that may read /metrics and nothing else. */
  metricsToken?: string | undefined;
}

/** What an Authorization header proves: a caller, or why not. */
export type Identity = { caller: Caller } | { refused: "missing" | "invalid" | "revoked" };

const digest = (value: string) => createHash("sha256").update(value).digest();

/** The admin (HTTP basic), given the user and password, compared in constant time. */
export function identifyAdmin(admin: AdminCredentials, user: string, password: string): Identity {
  return isAdmin(admin, user, password) ? { caller: { kind: "admin" } } : { refused: "invalid" };
}

/**
 * A tenant's API key (`Bearer ok_live_…`), or the metrics token: a key is looked up by its SHA-256
 * in the cache first, then with one indexed read (never Prisma), and only a live key is cached.
 */
export async function identifyBearer({ db, keys, metricsToken }: Credentials, bearer: string): Promise<Identity> {
  if (metricsToken !== undefined && timingSafeEqual(digest(bearer), digest(metricsToken))) return { caller: { kind: "metrics" } };
  if (!looksLikeApiKey(bearer)) return { refused: "invalid" };
  const keyHash = hashApiKey(bearer);
  const cached = keys.get(keyHash);
  if (cached && sameHash(cached.keyHash, keyHash)) return { caller: { kind: "tenant", tenantId: cached.tenantId, keyId: cached.keyId } };
  const row = await findApiKey(db, keyHash);
  if (!row || !sameHash(row.keyHash, keyHash)) return { refused: "invalid" };
  if (row.revokedAt) return { refused: "revoked" };
  keys.remember({ keyId: row.id, tenantId: row.tenantId, keyHash });
  return { caller: { kind: "tenant", tenantId: row.tenantId, keyId: row.id } };
}

/** The credentials an Authorization header carries, unverified. */
export type Presented = { kind: "none" } | { kind: "basic"; user: string; password: string } | { kind: "bearer"; token: string } | { kind: "malformed" };

export function presentedIn(authorization: string | undefined): Presented {
  if (!authorization) return { kind: "none" };
  const basic = basicCredentials(authorization);
  if (basic) return { kind: "basic", ...basic };
  const token = /^bearer +(\S+) *$/i.exec(authorization)?.[1];
  return token ? { kind: "bearer", token } : { kind: "malformed" };
}
