-- The mailer no longer holds a transaction open while it sends (packages/mailer): it claims a batch
-- in one statement (status `sending`, a lease until lease_expires_at), sends with no transaction
-- open, then settles the batch in one statement. A mailer that dies mid-send leaves rows `sending`;
-- once their lease has expired another mailer claims and sends them again (at least once).

-- DropIndex
DROP INDEX "emails_status_created_at_idx";

-- AlterTable
ALTER TABLE "emails" ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(6);

-- The states an email goes through (SQL only: Prisma has no CHECK constraints).
ALTER TABLE "emails" ADD CONSTRAINT "emails_status_check"
  CHECK ("status" IN ('pending', 'sending', 'sent', 'failed'));

-- The claim reads unsent rows oldest first; sent and failed rows, the bulk, are not in the index
-- (SQL only: Prisma has no partial indexes).
CREATE INDEX "emails_unsent_idx" ON "emails" ("created_at", "id") WHERE "status" IN ('pending', 'sending');
