import { type Database, type Queryable, sql } from "outbox-relay";
import type { NewApiKey } from "./api-key-format.ts";

export interface ApiKeyRow {
  id: string;
  tenantId: string;
  keyHash: string;
  revokedAt: Date | null;
}

/** An API key as the API shows it: never the key, nor its hash. */
export interface ApiKeyView {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const viewColumns = sql`id::text AS id, tenant_id::text AS "tenantId", name, prefix, created_at AS "createdAt", revoked_at AS "revokedAt"`;

/**
 * findApiKey: $1 the SHA-256 of a presented key. One probe of api_keys_key_hash_key; no lock. Run
 * when the API's cache misses: at most once per key and process every API_KEY_CACHE_TTL_MS.
 */
export async function findApiKey(db: Queryable, keyHash: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.query<ApiKeyRow>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", key_hash AS "keyHash", revoked_at AS "revokedAt"
    FROM api_keys WHERE key_hash = ${keyHash}`);
  return row;
}

/**
 * insertLiveApiKey: a new key for a tenant unless it already holds `maxLive` live keys. The tenant
 * row is locked first (FOR NO KEY UPDATE: the tenant's other inserts, whose foreign keys take KEY
 * SHARE, go on), so two concurrent requests count one after the other and cannot both pass the
 * cap. Resolves "no tenant", "limit" or the key.
 */
export async function insertLiveApiKey(db: Database, tenantId: string, key: NewApiKey, name: string | null, maxLive: number): Promise<ApiKeyView | "no tenant" | "limit"> {
  return db.transaction(async (tx) => {
    const [tenant] = await tx.query<{ id: string }>(sql`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`);
    if (!tenant) return "no tenant";
    const [live] = await tx.query<{ count: number }>(sql`SELECT count(*)::int AS count FROM api_keys WHERE tenant_id = ${tenantId}::uuid AND revoked_at IS NULL`);
    if (live!.count >= maxLive) return "limit";
    return insertApiKey(tx, tenantId, key, name);
  });
}

/** insertApiKey: $1.. the new key's id, tenant, name, prefix and hash. The tenant's foreign key makes an unknown tenant fail (23503). */
async function insertApiKey(db: Queryable, tenantId: string, key: NewApiKey, name: string | null): Promise<ApiKeyView> {
  const [row] = await db.query<ApiKeyView>(sql`
    INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash)
    VALUES (${key.id}::uuid, ${tenantId}::uuid, ${name}, ${key.prefix}, ${key.hash})
    RETURNING ${viewColumns}`);
  return row!;
}

/** listApiKeys: $1 the tenant. Reads api_keys_tenant_id_idx; newest first. */
export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyView[]> {
  return db.query<ApiKeyView>(sql`SELECT ${viewColumns} FROM api_keys WHERE tenant_id = ${tenantId}::uuid ORDER BY created_at DESC, id`);
}

/**
 * revokeApiKey: $1 the tenant, $2 the key. Sets revoked_at once (a second revoke keeps the first
 * time) and returns the key and its hash, so the caller can drop it from the cache; undefined
 * when the tenant has no such key.
 */
export async function revokeApiKey(db: Queryable, tenantId: string, keyId: string): Promise<{ key: ApiKeyView; keyHash: string } | undefined> {
  const [row] = await db.query<ApiKeyView & { keyHash: string }>(sql`
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE id = ${keyId}::uuid AND tenant_id = ${tenantId}::uuid
    RETURNING ${viewColumns}, key_hash AS "keyHash"`);
  if (!row) return undefined;
  const { id, name, prefix, createdAt, revokedAt } = row;
  return { key: { id, tenantId: row.tenantId, name, prefix, createdAt, revokedAt }, keyHash: row.keyHash };
}
