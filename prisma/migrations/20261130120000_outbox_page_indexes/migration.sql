-- The admin outbox page (/admin/outbox) lists events newest first by sequence, in keyset pages
-- (`sequence < cursor`), alone or within one aggregate, tenant or event type, and an event's
-- follow-ups by causation_id. Each filter reads its index in order and stops after a page; a
-- status filter reads the existing partial index of that status (dead, skipped, pending) or
-- this sequence index (processed, the bulk of the table). Checked with EXPLAIN on a million
-- rows: every page under 7 ms (docs/database.md).
--
-- Cost: every status change of an outbox row is a non-HOT update, so each full index below takes
-- an entry on the insert and on every update. Measured on set-based SQL (300,000 inserts, then
-- each updated to processed): about twice the time of the same statements without them; in the
-- real-handler drain (pnpm bench) no difference beyond the machine's noise. See docs/database.md
-- before adding another.
-- CREATE INDEX (not CONCURRENTLY: each migration runs in a transaction) blocks writes to the
-- table while it builds: under a second per index per million rows here.

-- CreateIndex
CREATE INDEX "event_outbox_sequence_idx" ON "event_outbox"("sequence");

-- CreateIndex
CREATE INDEX "event_outbox_aggregate_idx" ON "event_outbox"("aggregate_id", "sequence");

-- CreateIndex
CREATE INDEX "event_outbox_tenant_idx" ON "event_outbox"("tenant_id", "sequence");

-- CreateIndex
CREATE INDEX "event_outbox_type_idx" ON "event_outbox"("event_type", "sequence");

-- The events an event caused (its handler's follow-ups, a replay's copies): only rows that have a
-- cause take an entry.
CREATE INDEX "event_outbox_caused_by_idx" ON "event_outbox" ("causation_id", "sequence") WHERE "causation_id" IS NOT NULL;
