-- Tenant authentication: API keys (only a SHA-256 of each key is stored; the key is shown once),
-- and Idempotency-Keys scoped by tenant, so one tenant cannot claim (or replay) another's key.

-- Idempotency keys: a tenant_id column, filled from the stored answer (the order's tenantId);
-- a row whose tenant cannot be told, or no longer exists, is dropped (its answer replays nothing now).
ALTER TABLE "idempotency_keys" ADD COLUMN "tenant_id" UUID;
UPDATE "idempotency_keys" SET "tenant_id" = ("response_body"->>'tenantId')::uuid
WHERE "response_body"->>'tenantId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
DELETE FROM "idempotency_keys" k
WHERE k."tenant_id" IS NULL OR NOT EXISTS (SELECT 1 FROM "tenants" t WHERE t."id" = k."tenant_id");

-- AlterTable
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_pkey",
ALTER COLUMN "tenant_id" SET NOT NULL,
ADD CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("tenant_id", "scope", "key");

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
