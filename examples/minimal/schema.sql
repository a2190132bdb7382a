-- The service's own table; the engine's tables come from @outbox/engine's outboxMigrationSql.
CREATE TABLE greetings (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  greeted_at timestamptz
);
