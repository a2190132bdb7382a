-- What Prisma's schema language cannot express: the outbox's state constraint, the partial indexes
-- the scanner, the recovery check and the DLQ read, and the trigger that wakes scanners on commit.

ALTER TABLE "event_outbox" ADD CONSTRAINT "event_outbox_status_check"
  CHECK ("status" IN ('pending', 'dispatched', 'processed', 'dead', 'skipped'));

ALTER TABLE "event_outbox" ADD CONSTRAINT "event_outbox_attempts_check" CHECK ("attempts" >= 0);

-- The claim reads pending rows that are due, oldest first: a small index whatever the table's size.
CREATE INDEX "event_outbox_pending_idx" ON "event_outbox" ("available_at", "sequence")
  WHERE "status" = 'pending';

-- Per-aggregate order: "is an earlier event of this aggregate still unfinished?" is one probe here.
CREATE INDEX "event_outbox_aggregate_open_idx" ON "event_outbox" ("aggregate_type", "aggregate_id", "sequence")
  WHERE "status" IN ('pending', 'dispatched', 'dead');

-- Recovery looks at dispatched rows only; the DLQ at dead rows only.
CREATE INDEX "event_outbox_dispatched_idx" ON "event_outbox" ("dispatched_at")
  WHERE "status" = 'dispatched';
CREATE INDEX "event_outbox_dead_idx" ON "event_outbox" ("created_at")
  WHERE "status" = 'dead';

-- Retention deletes old finished rows in small batches, oldest first.
CREATE INDEX "event_outbox_finished_idx" ON "event_outbox" ("processed_at")
  WHERE "status" IN ('processed', 'skipped');

-- Wakes scanners (LISTEN event_outbox) when a transaction commits rows they can claim: new rows,
-- rows sent back to pending, and finished rows whose aggregate has a later pending event.
-- NOTIFY is delivered only on commit, once per transaction, never for a rollback.
CREATE FUNCTION "event_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR EXISTS (SELECT 1 FROM changed WHERE status = 'pending') OR EXISTS (
    SELECT 1 FROM changed c
    JOIN "event_outbox" o ON o.aggregate_type = c.aggregate_type AND o.aggregate_id = c.aggregate_id
    WHERE c.status IN ('processed', 'skipped') AND o.status = 'pending' AND o.sequence > c.sequence
  ) THEN
    PERFORM pg_notify('event_outbox', '');
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "event_outbox_notify_insert" AFTER INSERT ON "event_outbox"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "event_outbox_notify"();
CREATE TRIGGER "event_outbox_notify_update" AFTER UPDATE ON "event_outbox"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "event_outbox_notify"();
