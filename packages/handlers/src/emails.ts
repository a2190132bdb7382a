import type { Prisma, Tx } from "@outbox/db";

export type EmailTemplate = "order_confirmation" | "order_rejected" | "order_cancelled" | "welcome" | "tenant_onboarding";

export interface QueuedEmail {
  eventId: string;
  tenantId: string | null;
  recipient: string;
  template: EmailTemplate;
  data: Prisma.InputJsonObject;
}

/**
 * Queues one email row for the mailer. (event_id, template) is unique, so an event queues each of
 * its emails at most once even if its handler's work were applied twice.
 */
export async function queueEmail(tx: Tx, email: QueuedEmail): Promise<void> {
  await tx.email.createMany({
    data: [{ eventId: email.eventId, tenantId: email.tenantId, recipient: email.recipient, template: email.template, data: email.data }],
    skipDuplicates: true,
  });
}
