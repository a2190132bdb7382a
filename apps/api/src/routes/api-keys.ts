import type { FastifyPluginCallback } from "fastify";
import { z } from "zod";
import { schemas } from "@outbox/events";
import { sql, type Database } from "@outbox/sql";
import { requirePathTenant } from "../auth/access.ts";
import type { ApiKeyCache } from "../auth/api-key-cache.ts";
import { newApiKey } from "../auth/api-key-format.ts";
import { insertApiKey, listApiKeys, revokeApiKey } from "../auth/api-key-store.ts";
import { notFound } from "../errors.ts";
import { isUuid, parseRequest } from "../validation.ts";

const tenantParams = z.object({ id: z.string() });
const keyParams = z.object({ id: z.string(), keyId: z.string() });
const newKeyBody = z.object({ name: schemas.text().trim().min(1, "must not be empty").max(100).optional() }).optional();

/** tenantExists: $1 the tenant. One probe of its primary key. */
async function requireTenant(db: Database, tenantId: string): Promise<void> {
  const [row] = isUuid(tenantId) ? await db.query<{ found: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid) AS found`) : [];
  if (!row?.found) throw notFound("tenant", tenantId);
}

/**
 * A tenant's API keys, managed by the tenant itself (with any of its live keys) or the admin:
 * make another key (shown once), list them (never the keys), revoke one. Rotation with no
 * downtime: make a new key, move the clients to it, revoke the old one. A revoked key stops
 * working at once in this process, and in every other API process within API_KEY_CACHE_TTL_MS.
 * Another tenant's path answers 404.
 */
export const apiKeyRoutes: FastifyPluginCallback<{ db: Database; keys: ApiKeyCache }> = (app, { db, keys }, done) => {
  app.post("/api/tenants/:id/api-keys", async (request, reply) => {
    const { id } = parseRequest(tenantParams, request.params, "params");
    requirePathTenant(request, id);
    const body = parseRequest(newKeyBody, request.body);
    await requireTenant(db, id);
    const key = newApiKey();
    const view = await insertApiKey(db, id, key, body?.name ?? null);
    return reply.status(201).send({ ...view, apiKey: key.secret });
  });

  app.get("/api/tenants/:id/api-keys", async (request) => {
    const { id } = parseRequest(tenantParams, request.params, "params");
    requirePathTenant(request, id);
    await requireTenant(db, id);
    return { apiKeys: await listApiKeys(db, id) };
  });

  app.delete("/api/tenants/:id/api-keys/:keyId", async (request) => {
    const { id, keyId } = parseRequest(keyParams, request.params, "params");
    requirePathTenant(request, id);
    const revoked = isUuid(id) && isUuid(keyId) ? await revokeApiKey(db, id, keyId) : undefined;
    if (!revoked) throw notFound("API key", keyId);
    keys.forget(revoked.keyHash);
    return revoked.key;
  });
  done();
};
