-- The stats count each status exactly while it holds fewer than 100,000 rows (packages/stats),
-- each through a partial index that holds that status alone: pending (event_outbox_relay_idx),
-- dead (event_outbox_dead_idx), processed (event_outbox_processed_type_idx) and, here, skipped.
-- Skipped rows are rare, so without it the count would walk event_outbox_finished_idx's processed
-- rows to find them. An UPDATE adds an entry only when the row becomes skipped
-- (SQL only: Prisma has no partial indexes).
CREATE INDEX "event_outbox_skipped_idx" ON "event_outbox" ("processed_at") WHERE "status" = 'skipped';
