-- outbox-relay migration 0001: the outbox and the relay's cursor, as the first engine version made them.
-- Apply with `outbox-relay migrate` or `migrate()`, or add each file of this folder, in order, to your
-- own migrations (docs/upgrading.md). Every file runs again without harm (IF NOT EXISTS): `migrate`
-- re-runs from the first one not in effect, so a schema made in part elsewhere is completed.

-- event_outbox: one row per published event; the relay reads it in commit order (transaction_id,
-- sequence), the processor marks each row `processed` in the transaction of its handler's effects.
CREATE TABLE IF NOT EXISTS event_outbox (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    sequence bigserial NOT NULL,
    event_type text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    tenant_id text,
    payload jsonb NOT NULL,
    status text DEFAULT 'pending' NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    causation_id uuid,
    available_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    created_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    dispatched_at timestamp(6) with time zone,
    processed_at timestamp(6) with time zone,
    last_error text,
    transaction_id xid8 DEFAULT pg_current_xact_id() NOT NULL,
    CONSTRAINT event_outbox_attempts_check CHECK (attempts >= 0),
    CONSTRAINT event_outbox_status_check CHECK (status IN ('pending', 'dispatched', 'processed', 'dead', 'skipped'))
);

-- The relay's position: the last row it read, and the transactions still open below it.
CREATE TABLE IF NOT EXISTS outbox_relay_cursor (
    name text NOT NULL PRIMARY KEY,
    transaction_id xid8 DEFAULT '0'::xid8 NOT NULL,
    sequence bigint DEFAULT 0 NOT NULL,
    watched xid8[] DEFAULT '{}'::xid8[] NOT NULL,
    updated_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS event_outbox_relay_idx ON event_outbox (transaction_id, sequence) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS event_outbox_aggregate_open_idx ON event_outbox (aggregate_type, aggregate_id, sequence) WHERE status IN ('pending', 'dead');
CREATE INDEX IF NOT EXISTS event_outbox_aggregate_idx ON event_outbox (aggregate_id, sequence);
CREATE INDEX IF NOT EXISTS event_outbox_caused_by_idx ON event_outbox (causation_id, sequence) WHERE causation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS event_outbox_dead_idx ON event_outbox (created_at) WHERE status = 'dead';
CREATE INDEX IF NOT EXISTS event_outbox_finished_idx ON event_outbox (processed_at) WHERE status IN ('processed', 'skipped');
CREATE INDEX IF NOT EXISTS event_outbox_processed_type_idx ON event_outbox (event_type, created_at) WHERE status = 'processed';
CREATE INDEX IF NOT EXISTS event_outbox_sequence_idx ON event_outbox (sequence);
CREATE INDEX IF NOT EXISTS event_outbox_skipped_idx ON event_outbox (processed_at) WHERE status = 'skipped';
CREATE INDEX IF NOT EXISTS event_outbox_tenant_idx ON event_outbox (tenant_id, sequence);
CREATE INDEX IF NOT EXISTS event_outbox_type_idx ON event_outbox (event_type, sequence);

-- One NOTIFY per inserting statement wakes the relay at once (it also polls on a timer).
CREATE OR REPLACE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('event_outbox', '');
  RETURN NULL;
END;
$$;
-- (CREATE OR REPLACE TRIGGER needs PostgreSQL 14; the engine supports 13.)
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'event_outbox'::regclass AND tgname = 'event_outbox_notify_insert') THEN
    CREATE TRIGGER event_outbox_notify_insert AFTER INSERT ON event_outbox FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
  END IF;
END;
$$;
