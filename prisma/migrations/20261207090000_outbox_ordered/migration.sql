-- AlterTable
ALTER TABLE "event_outbox" ADD COLUMN     "ordered" BOOLEAN NOT NULL DEFAULT true;

