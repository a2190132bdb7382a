import { createCipheriv, hkdfSync, randomBytes, randomUUID } from "node:crypto";
import { databaseUrl, dropDatabase, onServer, uniqueName, type TestDatabase } from "@outbox/testing";
import type { EventCatalog } from "../../src/events/index.ts";
import type { HandledEvent } from "../../src/processor/index.ts";
import { migrate } from "../../src/schema/index.ts";
import type { WebhookDeliverySchemas } from "../../src/webhooks/index.ts";

export const encryptionKey = "test-encryption-key-with-32-chars-or-more";

/**
 * A database made by the package's own migrations, as a service that uses outbox-relay/webhooks
 * has it: the webhook tables with no tenants table behind them (the shop's template has one).
 */
export async function createWebhookDatabase(): Promise<TestDatabase> {
  const name = uniqueName("outbox_webhooks");
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  await migrate(databaseUrl(name));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

/** A WebhookDelivery event as the processor hands it to the handler. */
export function deliveryEvent(
  endpointId: string,
  tenantId: string | null,
  { id = randomUUID(), attempt = 1 }: { id?: string; attempt?: number } = {},
): HandledEvent<EventCatalog<WebhookDeliverySchemas>, "WebhookDelivery"> {
  const payload = {
    endpointId,
    tenantId,
    type: "order.created",
    sourceEventId: randomUUID(),
    data: { orderId: "o-1", totalAmount: 1999 },
    occurredAt: new Date().toISOString(),
  };
  return { id, type: "WebhookDelivery", payload, aggregateType: "webhook_endpoint", aggregateId: endpointId, tenantId, attempt, createdAt: new Date() };
}

/** A secret stored as releases before key ids stored it: `v1:<iv>:<tag>:<ciphertext>`, no key id. */
export function encryptSecretV1(secret: string, key: string): string {
  const aesKey = Buffer.from(hkdfSync("sha256", key, "outbox-webhooks", "webhook signing secret v1", 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
}
