-- The relay reads the outbox forward in commit order instead of claiming rows one by one, and an
-- event's `processed` mark is its only exactly-once record (docs/state-machine.md):
--   - transaction_id: the writing transaction; rows are read by (transaction_id, sequence) after
--     the relay's cursor, so a pass never re-walks rows it has read, however long the backlog;
--   - outbox_relay_cursor: that position, and the transactions still open below it when it was
--     taken (their rows are read when they commit);
--   - no `dispatched` write per row: an event goes pending → processed (or dead) in one write;
--   - no inbox: the UPDATE that marks a pending row processed takes its lock and is the
--     exactly-once mark, and a job whose row is gone or finished does nothing.

-- AlterTable
ALTER TABLE "event_outbox" ADD COLUMN     "transaction_id" xid8 NOT NULL DEFAULT pg_current_xact_id();

-- DropTable
DROP TABLE "event_inbox";

-- CreateTable
CREATE TABLE "outbox_relay_cursor" (
    "name" TEXT NOT NULL,
    "transaction_id" xid8 NOT NULL DEFAULT '0'::xid8,
    "sequence" BIGINT NOT NULL DEFAULT 0,
    "watched" xid8[] NOT NULL DEFAULT '{}'::xid8[],
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_relay_cursor_pkey" PRIMARY KEY ("name")
);

-- The one relay's cursor, at the start: every pending row is ahead of it.
INSERT INTO "outbox_relay_cursor" ("name") VALUES ('default');

-- Rows a claim had moved to dispatched are pending again: the relay reads them once more, and a
-- job already in Redis for one of them is not added twice (job id = event id).
UPDATE "event_outbox" SET "status" = 'pending', "dispatched_at" = NULL WHERE "status" = 'dispatched';

-- The relay and the rescuer read pending rows in commit order: forward from the cursor, or up to it.
DROP INDEX "event_outbox_pending_idx";
DROP INDEX "event_outbox_dispatched_idx";
CREATE INDEX "event_outbox_relay_idx" ON "event_outbox" ("transaction_id", "sequence") WHERE "status" = 'pending';

-- "Is an earlier event of this aggregate unfinished?": pending or dead, nothing else any more.
DROP INDEX "event_outbox_aggregate_open_idx";
CREATE INDEX "event_outbox_aggregate_open_idx" ON "event_outbox" ("aggregate_type", "aggregate_id", "sequence")
  WHERE "status" IN ('pending', 'dead');

-- Rows sent back to pending (a DLQ retry) or skipped are below the cursor: the operation that
-- changes them queues their jobs itself, and the rescuer covers a failure in between.
DROP TRIGGER "event_outbox_notify_released" ON "event_outbox";
