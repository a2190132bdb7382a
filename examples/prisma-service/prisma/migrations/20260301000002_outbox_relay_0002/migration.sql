-- outbox-relay migration 0002: the traceparent column, and the relay cursor's row.
-- traceparent: the W3C traceparent of the span that published the event (with an OpenTelemetry SDK).
ALTER TABLE event_outbox ADD COLUMN IF NOT EXISTS traceparent text;

-- The relay reads and moves the row named 'default'; without it the relay never reads a row.
INSERT INTO outbox_relay_cursor (name) VALUES ('default') ON CONFLICT (name) DO NOTHING;
