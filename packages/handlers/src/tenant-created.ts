import { PermanentError, type TransactionalHandler } from "@outbox/processor";
import { queueEmail } from "./emails.ts";

/**
 * A new tenant has no contact address (POST /api/tenants takes a name and a slug), so the
 * onboarding email goes to the operator's onboarding team, who reach out to the tenant.
 */
export const defaultOnboardingRecipient = "onboarding@example.com";

export const defaultTenantSettings = { currency: "USD", timezone: "UTC", settings: { locale: "en", emailNotifications: true } };

/** Default settings (kept if some exist) and the onboarding email. */
export function tenantCreatedHandler(onboardingRecipient = defaultOnboardingRecipient): TransactionalHandler<"TenantCreated"> {
  return async ({ tx, event }) => {
    const { payload } = event;
    const tenant = await tx.tenant.findUnique({ where: { id: payload.tenantId }, select: { id: true } });
    if (!tenant) throw new PermanentError(`tenant ${payload.tenantId} does not exist`);
    await tx.tenantSettings.createMany({ data: [{ tenantId: tenant.id, ...defaultTenantSettings }], skipDuplicates: true });
    await queueEmail(tx, {
      eventId: event.id,
      tenantId: tenant.id,
      recipient: onboardingRecipient,
      template: "tenant_onboarding",
      data: { tenantId: tenant.id, name: payload.name, slug: payload.slug },
    });
  };
}
