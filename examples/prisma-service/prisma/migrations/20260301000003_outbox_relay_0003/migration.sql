-- outbox-relay migration 0003: rows an older version marked `dispatched` go back to `pending`.
-- The relay keeps a cursor instead of a mark per row, so nothing reads `dispatched` rows any more:
-- as `pending`, the rescue pass queues those the relay has passed and the relay reads the others
-- (a job still in Redis for one keeps its id, the event id: it is not queued twice).
UPDATE event_outbox SET status = 'pending', dispatched_at = NULL WHERE status = 'dispatched';
