import { type Queryable, sql } from "outbox-relay";

export type EmailTemplate = "order_confirmation" | "order_rejected" | "order_cancelled" | "welcome" | "tenant_onboarding";

export interface QueuedEmail {
  eventId: string;
  tenantId: string | null;
  recipient: string;
  template: EmailTemplate;
  data: Record<string, unknown>;
}

/**
 * queueEmails: $1 the emails as one JSON array. One row per email for the mailer, `pending`.
 * (event_id, template) is unique, so an event queues each of its emails at most once, even if its
 * handler's work were applied twice.
 */
export async function queueEmails(tx: Queryable, emails: readonly QueuedEmail[]): Promise<void> {
  if (emails.length === 0) return;
  await tx.execute(sql`
    INSERT INTO emails (id, event_id, tenant_id, recipient, template, data)
    SELECT gen_random_uuid(), e."eventId", e."tenantId", e.recipient, e.template, e.data
    FROM jsonb_to_recordset(${JSON.stringify(emails)}::jsonb)
      AS e("eventId" uuid, "tenantId" uuid, recipient text, template text, data jsonb)
    ON CONFLICT (event_id, template) DO NOTHING`);
}
