-- AlterTable
ALTER TABLE "event_outbox" ADD COLUMN     "traceparent" TEXT;

