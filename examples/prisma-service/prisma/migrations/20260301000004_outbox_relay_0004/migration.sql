-- outbox-relay migration 0004: the tables of outbox-relay/webhooks, webhook endpoints and their
-- delivery attempts. Empty, and harmless, for a service that sends no webhooks. They are the
-- tables this repository's order shop made in its own Prisma migrations, column for column, except
-- that an endpoint's tenant may be NULL (an endpoint of a service without tenants) and nothing
-- refers to a tenants table: a service whose tenants are rows may add that foreign key itself.

-- webhook_endpoints: where to POST which event types, with the signing secret encrypted at rest;
-- the previous secret signs beside it until previous_secret_expires_at after a rotation.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id uuid NOT NULL,
    tenant_id uuid,
    url text NOT NULL,
    events text[],
    secret_encrypted text NOT NULL,
    previous_secret_encrypted text,
    previous_secret_expires_at timestamp(6) with time zone,
    enabled boolean DEFAULT true NOT NULL,
    disabled_reason text,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    created_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id)
);

-- webhook_attempts: every HTTP attempt of a delivery; webhook_id is the `webhook-id` sent (the
-- event id, or the original message's on a resend). An endpoint's attempts go with it.
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    attempt integer NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    error text,
    response_body text,
    created_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    webhook_id uuid,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_attempts_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON UPDATE CASCADE ON DELETE CASCADE
);

-- The fan-out and the per-tenant cap read an endpoint by tenant; an endpoint's attempts are listed
-- newest first by (created_at, id); a delivery's attempts by its event.
CREATE INDEX IF NOT EXISTS webhook_endpoints_tenant_id_idx ON webhook_endpoints (tenant_id);
CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint_id_created_at_id_idx ON webhook_attempts (endpoint_id, created_at, id);
CREATE INDEX IF NOT EXISTS webhook_attempts_event_id_idx ON webhook_attempts (event_id);
