-- Order numbers come from one sequence: unique within every tenant (and across them), readable,
-- and taken without a lock. A per-tenant counter row serialised every order of a tenant on it.
CREATE SEQUENCE "order_number_seq";
SELECT setval('"order_number_seq"', GREATEST((SELECT max("order_sequence") FROM "tenants"), 1), (SELECT max("order_sequence") FROM "tenants") IS NOT NULL);

-- AlterTable
ALTER TABLE "tenants" DROP COLUMN "order_sequence";

