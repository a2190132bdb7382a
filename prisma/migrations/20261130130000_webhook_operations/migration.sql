-- Webhook operations for tenants: each attempt records the `webhook-id` it sent (a resend keeps
-- the original message's id; rows older than this column sent their event_id), and an endpoint's
-- attempts are read newest first by keyset (created_at, id), so the index carries id as well.

-- DropIndex
DROP INDEX "webhook_attempts_endpoint_id_created_at_idx";

-- AlterTable
ALTER TABLE "webhook_attempts" ADD COLUMN     "webhook_id" UUID;

-- CreateIndex
CREATE INDEX "webhook_attempts_endpoint_id_created_at_id_idx" ON "webhook_attempts"("endpoint_id", "created_at", "id");
