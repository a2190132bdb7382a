-- outbox-relay migration 0006: what a webhook endpoint needs for retries over hours and for its
-- circuit breaker. retry_schedule: the endpoint's own waits before each attempt, in ms (NULL: the
-- service's schedule). failing_since: the first failed attempt since the last success (an endpoint
-- failing for longer than the service allows is disabled, at disabled_at). breaker_open_until: no
-- delivery is sent before it, then one probe is; breaker_trips lengthens each reopening.
-- Columns without defaults, or with a constant one, are added without rewriting the table.
ALTER TABLE webhook_endpoints
    ADD COLUMN IF NOT EXISTS retry_schedule integer[],
    ADD COLUMN IF NOT EXISTS failing_since timestamp(6) with time zone,
    ADD COLUMN IF NOT EXISTS last_success_at timestamp(6) with time zone,
    ADD COLUMN IF NOT EXISTS last_failure_at timestamp(6) with time zone,
    ADD COLUMN IF NOT EXISTS breaker_open_until timestamp(6) with time zone,
    ADD COLUMN IF NOT EXISTS breaker_trips integer DEFAULT 0 NOT NULL,
    ADD COLUMN IF NOT EXISTS disabled_at timestamp(6) with time zone;
