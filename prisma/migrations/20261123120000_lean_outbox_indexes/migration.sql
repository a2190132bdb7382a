-- Every status change of an outbox row is a non-HOT update that writes into each of its indexes,
-- so the table keeps only the indexes the pipeline reads. sequence is a bigserial: unique without
-- an index of its own. Replay reads processed events of one type: a partial index that a row
-- enters once, when it is processed.

-- DropIndex
DROP INDEX "event_outbox_event_type_created_at_idx";

-- DropIndex
DROP INDEX "event_outbox_sequence_key";


-- Replay: processed events of one type, by creation time.
CREATE INDEX "event_outbox_processed_type_idx" ON "event_outbox" ("event_type", "created_at") WHERE "status" = 'processed';
