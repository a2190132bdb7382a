import type { WebhookType } from "@outbox/events";
import type { HandlerContext } from "@outbox/processor";

/**
 * Publishes one WebhookDelivery event per enabled endpoint of the tenant that subscribes to the
 * type (or to "*"), in the handler's transaction: the deliveries exist exactly when the effects
 * commit. Endpoints are read in id order so a re-run publishes the same set.
 */
export async function fanOutWebhooks(
  ctx: HandlerContext,
  tenantId: string,
  type: WebhookType,
  data: Record<string, unknown>,
): Promise<number> {
  const endpoints = await ctx.tx.webhookEndpoint.findMany({
    where: { tenantId, enabled: true, OR: [{ events: { has: type } }, { events: { has: "*" } }] },
    select: { id: true },
    orderBy: { id: "asc" },
  });
  const occurredAt = new Date().toISOString();
  for (const endpoint of endpoints) {
    await ctx.publish({
      type: "WebhookDelivery",
      payload: { endpointId: endpoint.id, tenantId, type, sourceEventId: ctx.event.id, data, occurredAt },
    });
  }
  return endpoints.length;
}
