-- AlterTable
ALTER TABLE "webhook_endpoints" ADD COLUMN     "breaker_open_until" TIMESTAMPTZ(6),
ADD COLUMN     "breaker_trips" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "disabled_at" TIMESTAMPTZ(6),
ADD COLUMN     "failing_since" TIMESTAMPTZ(6),
ADD COLUMN     "last_failure_at" TIMESTAMPTZ(6),
ADD COLUMN     "last_success_at" TIMESTAMPTZ(6),
ADD COLUMN     "retry_schedule" INTEGER[];

