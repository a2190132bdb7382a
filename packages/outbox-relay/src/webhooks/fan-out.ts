import type { OrderEvents, WebhookType } from "@outbox/domain";
import type { NewEventOf } from "outbox-relay/events";
import type { OrderBatchContext } from "./types.ts";
import { sql, type Queryable } from "outbox-relay/sql";
import { uuidsOf } from "./ids.ts";

/** One event's notification: what the tenant's subscribed endpoints each receive. */
export interface WebhookNotification {
  sourceEventId: string;
  tenantId: string;
  type: WebhookType;
  data: Record<string, unknown>;
}

interface Endpoint {
  id: string;
  tenantId: string;
  events: string[];
}

/**
 * Publishes one WebhookDelivery event per enabled endpoint of the notification's tenant that
 * subscribes to its type (or to "*"), in the handler's transaction: the deliveries exist exactly
 * when the effects commit. Two statements for any number of notifications: one read of the
 * endpoints, one insert of every delivery (in notification order, endpoints in id order, so a
 * re-run publishes the same set). Returns the number of deliveries.
 */
export async function fanOutWebhooks(
  { tx, publish }: Pick<OrderBatchContext, "tx" | "publish">,
  notifications: readonly WebhookNotification[],
): Promise<number> {
  if (notifications.length === 0) return 0;
  const endpoints = await subscribedEndpoints(tx, notifications);
  const occurredAt = new Date().toISOString();
  const deliveries: NewEventOf<OrderEvents>[] = notifications.flatMap(({ sourceEventId, tenantId, type, data }) =>
    (endpoints.get(tenantId.toLowerCase()) ?? [])
      .filter((endpoint) => endpoint.events.includes(type) || endpoint.events.includes("*"))
      .map((endpoint) => ({
        type: "WebhookDelivery" as const,
        payload: { endpointId: endpoint.id, tenantId, type, sourceEventId, data, occurredAt },
        causationId: sourceEventId,
      })),
  );
  await publish(deliveries);
  return deliveries.length;
}

/**
 * subscribedEndpoints: $1 the tenants, $2 the notification types and "*". The enabled endpoints
 * that may want one of them, in id order, by tenant; each notification then picks its own. No
 * lock: an endpoint disabled meanwhile is skipped by its delivery.
 */
async function subscribedEndpoints(tx: Queryable, notifications: readonly WebhookNotification[]): Promise<Map<string, Endpoint[]>> {
  const tenantIds = uuidsOf(notifications.map((n) => n.tenantId));
  const types = [...new Set<string>(notifications.map((n) => n.type)), "*"];
  const rows = await tx.query<Endpoint>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", events FROM webhook_endpoints
    WHERE tenant_id = ANY(${tenantIds}::uuid[]) AND enabled AND events && ${types}::text[]
    ORDER BY id`);
  const byTenant = new Map<string, Endpoint[]>();
  for (const row of rows) {
    const list = byTenant.get(row.tenantId);
    if (list) list.push(row);
    else byTenant.set(row.tenantId, [row]);
  }
  return byTenant;
}
