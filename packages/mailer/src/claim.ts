import { type Queryable, sql } from "outbox-relay";

/** An email a mailer claimed: it is `sending`, and the claim is this mailer's until `lease`. */
export interface ClaimedEmail {
  id: string;
  recipient: string;
  template: string;
  data: Record<string, unknown>;
  /** Sends already settled for it (not counting this one). */
  attempts: number;
  /** lease_expires_at as Postgres prints it: the claim's fence, matched exactly when settling. */
  lease: string;
}

/** One send's result: no error means sent. */
export interface SendResult {
  id: string;
  lease: string;
  error: string | null;
}

export interface SettledEmail {
  id: string;
  status: "sent" | "pending" | "failed";
  attempts: number;
}

/**
 * claimEmails: $1 lease length (ms), $2 batch size. The oldest unsent emails, pending or `sending`
 * under an expired lease (their mailer died mid-send), become `sending` with a new lease, in one
 * autocommit statement: no transaction stays open while they are sent. FOR UPDATE SKIP LOCKED: rows
 * another mailer is claiming right now are passed over, never waited for, so mailers share the
 * work. Reads emails_unsent_idx ((created_at, id) WHERE status IN ('pending', 'sending')) in order.
 * Returns the claimed emails oldest first.
 */
export async function claimEmails(db: Queryable, { leaseMs, batchSize }: { leaseMs: number; batchSize: number }): Promise<ClaimedEmail[]> {
  return db.query<ClaimedEmail>(sql`
    WITH due AS (
      SELECT id FROM emails
      WHERE status IN ('pending', 'sending') AND (status = 'pending' OR lease_expires_at < now())
      ORDER BY created_at, id
      LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE emails e SET status = 'sending', lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
      FROM due
      WHERE e.id = due.id
      RETURNING e.id, e.recipient, e.template, e.data, e.attempts, e.lease_expires_at, e.created_at
    )
    SELECT id::text, recipient, template, data, attempts, lease_expires_at::text AS lease
    FROM claimed ORDER BY created_at, id`);
}

/**
 * settleEmails: $1 the batch's results as one JSON array, $2 max attempts. Each email this mailer
 * still holds (`sending` under the very lease it claimed) counts the attempt and becomes `sent`, or
 * `pending` again with the error, or `failed` with it on the last attempt; the lease is cleared.
 * One autocommit statement for the whole batch. An email whose lease expired and that another
 * mailer claimed since has another lease: it is left alone and missing from the result (this
 * mailer lost it; it may be sent twice). Locks only the rows it settles.
 */
export async function settleEmails(db: Queryable, results: readonly SendResult[], maxAttempts: number): Promise<SettledEmail[]> {
  if (results.length === 0) return [];
  return db.query<SettledEmail>(sql`
    UPDATE emails e
    SET status = CASE WHEN r.error IS NULL THEN 'sent' WHEN e.attempts + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END,
        attempts = e.attempts + 1,
        last_error = r.error,
        sent_at = CASE WHEN r.error IS NULL THEN now() ELSE e.sent_at END,
        lease_expires_at = NULL
    FROM jsonb_to_recordset(${JSON.stringify(results)}::jsonb) AS r(id uuid, lease text, error text)
    WHERE e.id = r.id AND e.status = 'sending' AND e.lease_expires_at = r.lease::timestamptz
    RETURNING e.id::text, e.status, e.attempts`);
}
