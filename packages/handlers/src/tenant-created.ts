import type { OrderEvents } from "@outbox/domain";
import { type BatchHandler, type Queryable, sql } from "outbox-relay";
import { batch } from "./types.ts";
import { queueEmails } from "./emails.ts";
import { requireEach, uuidsOf } from "./ids.ts";

/**
 * A new tenant has no contact address (POST /api/tenants takes a name and a slug), so the
 * onboarding email goes to the operator's onboarding team, who reach out to the tenant.
 */
export const defaultOnboardingRecipient = "onboarding@example.com";

export const defaultTenantSettings = { currency: "USD", timezone: "UTC", settings: { locale: "en", emailNotifications: true } };

/** Default settings (kept if some exist) and the onboarding email, per tenant. */
export function tenantCreatedHandler(onboardingRecipient = defaultOnboardingRecipient): BatchHandler<OrderEvents, "TenantCreated"> {
  return batch<"TenantCreated">(async ({ tx, events }) => {
    const tenants = await findTenants(tx, events.map((event) => event.payload.tenantId));
    await createSettings(tx, [...tenants.values()].map((tenant) => tenant.id));
    await queueEmails(tx, events.map(({ id, payload }) => ({
      eventId: id,
      tenantId: tenants.get(payload.tenantId)!.id,
      recipient: onboardingRecipient,
      template: "tenant_onboarding" as const,
      data: { tenantId: tenants.get(payload.tenantId)!.id, name: payload.name, slug: payload.slug },
    })));
  });
}

/** findTenants: $1 the tenants' ids. No lock: only the API changes a tenant. A missing tenant is a PermanentError. */
async function findTenants(tx: Queryable, tenantIds: readonly string[]) {
  const rows = await tx.query<{ id: string }>(sql`SELECT id::text AS id FROM tenants WHERE id = ANY(${uuidsOf(tenantIds)}::uuid[])`);
  return requireEach("tenant", tenantIds, rows);
}

/** createSettings: $1 the tenants' ids. The default settings each; existing settings are kept. */
async function createSettings(tx: Queryable, tenantIds: readonly string[]): Promise<void> {
  const { currency, timezone, settings } = defaultTenantSettings;
  await tx.execute(sql`
    INSERT INTO tenant_settings (tenant_id, currency, timezone, settings)
    SELECT DISTINCT id, ${currency}, ${timezone}, ${JSON.stringify(settings)}::jsonb FROM unnest(${tenantIds}::uuid[]) AS t(id)
    ON CONFLICT (tenant_id) DO NOTHING`);
}
