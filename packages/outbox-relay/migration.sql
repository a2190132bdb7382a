-- Deprecated: the engine's migrations are the numbered files in migrations/ (docs/upgrading.md); this is
-- today's schema in one piece, for services that added it before them.
-- The outbox engine's tables (outbox-relay): add this file to your own migrations, once.
-- event_outbox: one row per published event; the relay reads it in commit order (transaction_id,
-- sequence), the processor marks each row `processed` in the transaction of its handler's effects.
CREATE TABLE event_outbox (
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
    -- The W3C traceparent of the span that published the event (with an OpenTelemetry SDK).
    traceparent text,
    CONSTRAINT event_outbox_attempts_check CHECK (attempts >= 0),
    CONSTRAINT event_outbox_status_check CHECK (status IN ('pending', 'dispatched', 'processed', 'dead', 'skipped'))
);

-- The relay's position: the last row it read, and the transactions still open below it.
CREATE TABLE outbox_relay_cursor (
    name text NOT NULL PRIMARY KEY,
    transaction_id xid8 DEFAULT '0'::xid8 NOT NULL,
    sequence bigint DEFAULT 0 NOT NULL,
    watched xid8[] DEFAULT '{}'::xid8[] NOT NULL,
    updated_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
INSERT INTO outbox_relay_cursor (name) VALUES ('default');

CREATE INDEX event_outbox_relay_idx ON event_outbox (transaction_id, sequence) WHERE status = 'pending';
CREATE INDEX event_outbox_aggregate_open_idx ON event_outbox (aggregate_type, aggregate_id, sequence) WHERE status IN ('pending', 'dead');
CREATE INDEX event_outbox_aggregate_idx ON event_outbox (aggregate_id, sequence);
CREATE INDEX event_outbox_caused_by_idx ON event_outbox (causation_id, sequence) WHERE causation_id IS NOT NULL;
CREATE INDEX event_outbox_dead_idx ON event_outbox (created_at) WHERE status = 'dead';
CREATE INDEX event_outbox_finished_idx ON event_outbox (processed_at) WHERE status IN ('processed', 'skipped');
CREATE INDEX event_outbox_processed_type_idx ON event_outbox (event_type, created_at) WHERE status = 'processed';
CREATE INDEX event_outbox_sequence_idx ON event_outbox (sequence);
CREATE INDEX event_outbox_skipped_idx ON event_outbox (processed_at) WHERE status = 'skipped';
CREATE INDEX event_outbox_tenant_idx ON event_outbox (tenant_id, sequence);
CREATE INDEX event_outbox_type_idx ON event_outbox (event_type, sequence);

-- One NOTIFY per inserting statement wakes the relay at once (it also polls on a timer).
CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('event_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER event_outbox_notify_insert AFTER INSERT ON event_outbox FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
