import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import { deliveryType, webhookDeliveries } from "./delivery-event.ts";
import { isUuid } from "./endpoints.ts";
import { subscribes } from "./endpoint-input.ts";

/** One event's notification: what each endpoint of its tenant subscribed to its type receives. */
export interface WebhookNotification {
  /** The event it tells of: the deliveries' causation. */
  sourceEventId: string;
  /** Endpoints of this tenant receive it; null: endpoints of no tenant. */
  tenantId: string | null;
  /** The type endpoints subscribe to, and the body's `type`. */
  type: string;
  data: Record<string, unknown>;
}

interface Endpoint {
  id: string;
  tenantId: string | null;
  events: string[];
}

/**
 * Publishes one WebhookDelivery event per enabled endpoint of the notification's tenant that
 * subscribes to its type (or to "*"), in the caller's transaction (a handler's `tx`): the
 * deliveries exist exactly when the effects commit. Two statements for any number of notifications:
 * one read of the endpoints, one insert of every delivery (in notification order, endpoints in id
 * order, so a re-run publishes the same set). A tenant that is not a UUID has no endpoints.
 * Returns the number of deliveries.
 */
export async function fanOutWebhooks(tx: Executor, notifications: readonly WebhookNotification[]): Promise<number> {
  if (notifications.length === 0) return 0;
  const endpoints = await subscribedEndpoints(tx, notifications);
  const occurredAt = new Date().toISOString();
  const deliveries = notifications.flatMap(({ sourceEventId, tenantId, type, data }) =>
    (endpoints.get(tenantId?.toLowerCase() ?? null) ?? [])
      .filter((endpoint) => subscribes(endpoint.events, type))
      .map((endpoint) => ({
        type: deliveryType,
        payload: { endpointId: endpoint.id, tenantId, type, sourceEventId, data, occurredAt },
        causationId: sourceEventId,
      })),
  );
  await webhookDeliveries.publishMany(tx, deliveries);
  return deliveries.length;
}

/**
 * subscribedEndpoints: $1 the tenants, $2 the notification types and "*". The enabled endpoints
 * that may want one of them, in id order, by tenant (null: of no tenant); each notification then
 * picks its own. No lock: an endpoint disabled meanwhile is skipped by its delivery.
 */
async function subscribedEndpoints(tx: Executor, notifications: readonly WebhookNotification[]): Promise<Map<string | null, Endpoint[]>> {
  const tenantIds = [...new Set(notifications.flatMap((n) => (n.tenantId !== null && isUuid(n.tenantId) ? [n.tenantId.toLowerCase()] : [])))];
  const types = [...new Set([...notifications.map((n) => n.type), "*"])];
  const ofNoTenant = notifications.some((n) => n.tenantId === null) ? sql`OR tenant_id IS NULL` : sql``;
  const rows = await query<Endpoint>(tx, sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", events FROM webhook_endpoints
    WHERE (tenant_id = ANY(${tenantIds}::uuid[]) ${ofNoTenant}) AND enabled AND events && ${types}::text[]
    ORDER BY id`);
  const byTenant = new Map<string | null, Endpoint[]>();
  for (const row of rows) {
    const list = byTenant.get(row.tenantId);
    if (list) list.push(row);
    else byTenant.set(row.tenantId, [row]);
  }
  return byTenant;
}
