-- Money as bigint: a product priced 1,500,000,000 cents overflowed the 32-bit daily gross on the
-- second order of the day ("integer out of range"). Every money column becomes bigint; the API and
-- the event schemas keep amounts within JSON's safe integers (at most 2^53 - 1) and refuse more.
-- A type change rewrites each table once (ACCESS EXCLUSIVE while it runs).

-- AlterTable
ALTER TABLE "products" ALTER COLUMN "price" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "orders" ALTER COLUMN "total_amount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "order_items" ALTER COLUMN "unit_price" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "payments" ALTER COLUMN "amount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "refunds" ALTER COLUMN "amount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "tenant_daily_stats" ALTER COLUMN "gross_amount" SET DATA TYPE BIGINT,
ALTER COLUMN "payments_amount" SET DATA TYPE BIGINT,
ALTER COLUMN "refunds_amount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "settlement_reports" ALTER COLUMN "gross_amount" SET DATA TYPE BIGINT,
ALTER COLUMN "refunds_amount" SET DATA TYPE BIGINT,
ALTER COLUMN "net_amount" SET DATA TYPE BIGINT;

