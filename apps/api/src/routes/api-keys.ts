import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { type Database, sql } from "outbox-relay";
import { requirePathTenant } from "../auth/access.ts";
import type { ApiKeyCache } from "../auth/api-key-cache.ts";
import { newApiKey } from "../auth/api-key-format.ts";
import { insertLiveApiKey, listApiKeys, revokeApiKey } from "../auth/api-key-store.ts";
import { conflict, notFound } from "../errors.ts";
import { answers, apiKeyCreated, apiKeyList, apiKeyView, apiRefusals, bodyRefusals } from "../responses.ts";
import { apiKeyParams, newApiKeyBody, tenantParams } from "../schemas.ts";
import { isUuid } from "../validation.ts";

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
export const apiKeyRoutes: FastifyPluginCallbackZod<{ db: Database; keys: ApiKeyCache; maxLiveKeys: number }> = (app, { db, keys, maxLiveKeys }, done) => {
  const create = {
    summary: "Make another API key for the tenant",
    description: `The key is in this answer only. Rotate with no downtime: make a key, move the clients to it, revoke the old one. A tenant holds at most API_KEYS_PER_TENANT_MAX (${maxLiveKeys}) live keys: 409 API_KEY_LIMIT past that.`,
    params: tenantParams,
    body: newApiKeyBody,
    response: answers({ 201: apiKeyCreated }, [...bodyRefusals, 404, 409, ...apiRefusals]),
  };
  app.post("/api/tenants/:id/api-keys", { config: { access: "tenant" }, schema: create }, async (request, reply) => {
    const { id } = request.params;
    requirePathTenant(request, id);
    const body = request.body;
    const key = newApiKey();
    const view = isUuid(id) ? await insertLiveApiKey(db, id, key, body?.name ?? null, maxLiveKeys) : "no tenant";
    if (view === "no tenant") throw notFound("tenant", id);
    if (view === "limit") throw conflict("API_KEY_LIMIT", `tenant ${id} already holds ${maxLiveKeys} live API keys (API_KEYS_PER_TENANT_MAX); revoke one first`);
    return reply.status(201).send({ ...view, apiKey: key.secret });
  });

  const list = { summary: "List the tenant's API keys (never the keys)", params: tenantParams, response: answers({ 200: apiKeyList }, [400, 404, ...apiRefusals]) };
  app.get("/api/tenants/:id/api-keys", { config: { access: "tenant" }, schema: list }, async (request) => {
    const { id } = request.params;
    requirePathTenant(request, id);
    await requireTenant(db, id);
    return { apiKeys: await listApiKeys(db, id) };
  });

  const revoke = {
    summary: "Revoke an API key",
    description: "The key stops working at once in this API process, and within API_KEY_CACHE_TTL_MS in the others.",
    params: apiKeyParams,
    response: answers({ 200: apiKeyView }, [400, 404, ...apiRefusals]),
  };
  app.delete("/api/tenants/:id/api-keys/:keyId", { config: { access: "tenant" }, schema: revoke }, async (request) => {
    const { id, keyId } = request.params;
    requirePathTenant(request, id);
    const revoked = isUuid(id) && isUuid(keyId) ? await revokeApiKey(db, id, keyId) : undefined;
    if (!revoked) throw notFound("API key", keyId);
    keys.forget(revoked.keyHash);
    return revoked.key;
  });
  done();
};
