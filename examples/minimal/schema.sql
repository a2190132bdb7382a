-- The service's own table; the engine's tables come from @outbox/engine's readOutboxMigration.
CREATE TABLE greetings (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  greeted_at timestamptz
);
