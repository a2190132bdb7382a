-- outbox-relay migration 0005: each row records whether it takes part in its aggregate's order.
-- `publish` writes its type's policy (EventPolicy.ordered); readers no longer need the catalog to
-- tell which events wait or hold. A constant default adds the column without rewriting the table.
-- Rows already unfinished keep the default (ordered) until a worker starts: it marks those of the
-- types its catalog calls unordered (docs/upgrading.md). A row inserted by plain SQL without the
-- column is ordered.
ALTER TABLE event_outbox ADD COLUMN IF NOT EXISTS ordered boolean DEFAULT true NOT NULL;
