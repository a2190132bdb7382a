-- The first notify triggers read a transition table of every updated row on each statement, and
-- every claim and every processed batch paid for that join. Now only what can make a row
-- claimable wakes the scanners:
--   - new rows, from any program (a statement-level trigger, no per-row work);
--   - rows sent back to pending (retry, recovery) and dead rows skipped by an admin (a row trigger
--     whose WHEN clause costs nothing for the pipeline's own updates);
--   - a processed event whose aggregate has a later pending event: the processor sends that
--     NOTIFY itself, in the transaction that marks it processed (packages/processor/src/sql.ts).
DROP TRIGGER "event_outbox_notify_insert" ON "event_outbox";
DROP TRIGGER "event_outbox_notify_update" ON "event_outbox";
DROP FUNCTION "event_outbox_notify"();

CREATE FUNCTION "event_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('event_outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER "event_outbox_notify_insert" AFTER INSERT ON "event_outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION "event_outbox_notify"();
CREATE TRIGGER "event_outbox_notify_released" AFTER UPDATE OF "status" ON "event_outbox"
  FOR EACH ROW WHEN (NEW."status" IN ('pending', 'skipped') AND OLD."status" IS DISTINCT FROM NEW."status")
  EXECUTE FUNCTION "event_outbox_notify"();
