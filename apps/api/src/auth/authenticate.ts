import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Database } from "@outbox/sql";
import { ApiError } from "../errors.ts";
import { basicCredentials, isAdmin, type AdminCredentials } from "./admin-credentials.ts";
import { hashApiKey, looksLikeApiKey, sameHash } from "./api-key-format.ts";
import type { ApiKeyCache } from "./api-key-cache.ts";
import { findApiKey } from "./api-key-store.ts";
import type { Caller } from "./caller.ts";

export interface AuthenticationOptions {
  db: Database;
  admin: AdminCredentials;
  keys: ApiKeyCache;
}

type Outcome = { caller: Caller } | { refused: "missing" | "invalid" | "revoked" };

const adminRealm = 'Basic realm="outbox admin"';

/**
 * Who is calling: the admin (HTTP basic, ADMIN_USER / ADMIN_PASSWORD) or a tenant's API key
 * (`Authorization: Bearer ok_live_…`). A key is looked up by its SHA-256 in the cache first, then
 * with one indexed read (never Prisma), and only a live key is cached.
 */
async function identify({ db, admin, keys }: AuthenticationOptions, authorization: string | undefined): Promise<Outcome> {
  if (!authorization) return { refused: "missing" };
  const basic = basicCredentials(authorization);
  if (basic) return isAdmin(admin, basic.user, basic.password) ? { caller: { kind: "admin" } } : { refused: "invalid" };
  const bearer = /^bearer +(\S+) *$/i.exec(authorization)?.[1];
  if (!bearer || !looksLikeApiKey(bearer)) return { refused: "invalid" };
  const keyHash = hashApiKey(bearer);
  const cached = keys.get(keyHash);
  if (cached && sameHash(cached.keyHash, keyHash)) return { caller: { kind: "tenant", tenantId: cached.tenantId, keyId: cached.keyId } };
  const row = await findApiKey(db, keyHash);
  if (!row || !sameHash(row.keyHash, keyHash)) return { refused: "invalid" };
  if (row.revokedAt) return { refused: "revoked" };
  keys.remember({ keyId: row.id, tenantId: row.tenantId, keyHash });
  return { caller: { kind: "tenant", tenantId: row.tenantId, keyId: row.id } };
}

const refusals = {
  missing: { code: "AUTHENTICATION_REQUIRED", message: "this route needs an API key (Authorization: Bearer <apiKey>) or the admin credentials" },
  invalid: { code: "INVALID_CREDENTIALS", message: "the API key or the admin credentials are not valid" },
  revoked: { code: "API_KEY_REVOKED", message: "this API key was revoked" },
} as const;

/**
 * Every /api request is authenticated before anything else runs (onRequest): no key, an unknown
 * or a revoked one answers 401 with `WWW-Authenticate: Bearer`; on an admin-only route (`config:
 * { access: "admin" }`) only the admin credentials pass: a tenant's key answers 403, no
 * credentials 401 with the Basic challenge. The caller is on `request.caller`.
 */
export function registerAuthentication(app: FastifyInstance, options: AuthenticationOptions): void {
  app.decorateRequest("caller", null);
  app.addHook("onRequest", async (request: FastifyRequest) => {
    if (!request.url.startsWith("/api/")) return;
    const adminOnly = request.routeOptions.config?.access === "admin";
    const outcome = await identify(options, request.headers.authorization);
    if ("refused" in outcome) {
      const { code, message } = refusals[outcome.refused];
      throw new ApiError(401, code, adminOnly ? "this route needs the admin credentials (HTTP basic)" : message, undefined, {
        "www-authenticate": adminOnly ? adminRealm : "Bearer",
      });
    }
    if (adminOnly && outcome.caller.kind !== "admin") throw new ApiError(403, "ADMIN_REQUIRED", "this route needs the admin credentials, not an API key");
    request.caller = outcome.caller;
  });
}
