import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { webhookDefaults } from "./defaults.ts";
import { isUuid } from "./endpoints.ts";
import { PortalKeyMissingError } from "./errors.ts";

/**
 * A portal token says "tenant T may manage its webhooks until time E", signed by the server:
 * `v1.<tenant id>.<expiry, ms since the epoch>.<base64url HMAC-SHA256>`. Two kinds, each with its
 * own key: a **link** (minted by the service's API, opened once by a browser within minutes) and
 * a **session** (the HttpOnly cookie a link is exchanged for). Nothing is stored: a token is valid
 * until it expires, and every token dies when the signing key changes.
 */
export type PortalTokenKind = "link" | "session";

export interface PortalGrant {
  /** The tenant (a UUID, lower case) the token lets its holder act for. */
  tenantId: string;
  expiresAt: Date;
}

/** The path a portal link opens (outbox-relay/fastify's portalPlugin exchanges it for a session there). */
export const portalOpenPath = "/portal/open";

/**
 * The HMAC key of one kind: HKDF-SHA256 of the service's signing key (the order shop's
 * ENCRYPTION_KEY) under labels of the portal's own, so it is never the key that encrypts endpoint
 * secrets, and a link can never pass for a session (or the other way round).
 */
function keyOf(signingKey: string | undefined, kind: PortalTokenKind): Buffer {
  if (!signingKey) throw new PortalKeyMissingError();
  return Buffer.from(hkdfSync("sha256", signingKey, "outbox-relay webhook portal", `portal ${kind} token v1`, 32));
}

const macOf = (key: Buffer, tenantId: string, expiresAtMs: number) => createHmac("sha256", key).update(`v1.${tenantId}.${expiresAtMs}`).digest();

/** A token of `kind` for the tenant, valid for `ttlMs`. Throws PortalKeyMissingError without a signing key, TypeError for a tenant that is not a UUID. */
export function signPortalToken(signingKey: string | undefined, kind: PortalTokenKind, tenantId: string, ttlMs: number, now = Date.now()): { token: string; expiresAt: Date } {
  if (!isUuid(tenantId)) throw new TypeError(`a portal token's tenant must be a UUID, not ${JSON.stringify(tenantId)}`);
  if (!(ttlMs > 0)) throw new TypeError("a portal token's lifetime must be positive");
  const tenant = tenantId.toLowerCase();
  const expiresAtMs = now + Math.trunc(ttlMs);
  const mac = macOf(keyOf(signingKey, kind), tenant, expiresAtMs).toString("base64url");
  return { token: `v1.${tenant}.${expiresAtMs}.${mac}`, expiresAt: new Date(expiresAtMs) };
}

/** Exactly what signPortalToken writes: a lower-case UUID, 1–15 digits, 43 base64url characters (32 bytes). */
const tokenShape = /^v1\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

/**
 * The grant a token of `kind` carries, or null when it is not one (malformed, signed with another
 * key or for another kind, tampered with, expired). The signature is compared in constant time.
 */
export function verifyPortalToken(signingKey: string | undefined, kind: PortalTokenKind, token: string, now = Date.now()): PortalGrant | null {
  const match = tokenShape.exec(token);
  if (!match) return null;
  const [, tenantId, expiry, mac] = match as unknown as [string, string, string, string];
  const expected = macOf(keyOf(signingKey, kind), tenantId, Number(expiry));
  const presented = Buffer.from(mac, "base64url");
  // The shape allows a last character whose spare bits are set, which decodes to the same bytes: compare the spelling too.
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected) || presented.toString("base64url") !== mac) return null;
  if (Number(expiry) <= now) return null;
  return { tenantId, expiresAt: new Date(Number(expiry)) };
}

/**
 * A link that opens the tenant's webhook portal: `<baseUrl>/portal/open?token=…`, valid for
 * `ttlMs` (default 15 minutes). The service's API mints it for the tenant's own key or its admin;
 * whoever holds it can manage the tenant's endpoints until the session it opens ends, so send it
 * only to the tenant. Throws PortalKeyMissingError when there is no signing key.
 */
export function mintPortalLink(
  signingKey: string | undefined,
  { tenantId, baseUrl, ttlMs = webhookDefaults.portalLinkTtlMs, now }: { tenantId: string; baseUrl: string; ttlMs?: number; now?: number },
): { url: string; expiresAt: Date } {
  const { token, expiresAt } = signPortalToken(signingKey, "link", tenantId, ttlMs, now);
  const url = new URL(portalOpenPath, baseUrl);
  url.searchParams.set("token", token);
  return { url: url.toString(), expiresAt };
}
