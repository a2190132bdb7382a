import type { PrismaClient } from "@outbox/db";
import { query } from "outbox-relay/events";
import { skipUnfinished } from "outbox-relay/outbox";
import { sql } from "outbox-relay/sql";
import { parseEndpointInput, type EventFilter } from "./endpoint-input.ts";
import { EndpointLimitError, EndpointNotFoundError, TenantNotFoundError } from "./errors.ts";
import { encryptSecret, generateSecret } from "./secrets.ts";

export interface EndpointSettings {
  /** ENCRYPTION_KEY; without it, creating an endpoint or rotating its secret throws EncryptionKeyMissingError. */
  encryptionKey: string | undefined;
  allowPrivateNetworks: boolean;
  /** WEBHOOK_ENDPOINTS_PER_TENANT_MAX: endpoints one tenant may have (default `defaultEndpointsPerTenantMax`). */
  maxEndpointsPerTenant?: number;
}

export const defaultEndpointsPerTenantMax = 10;

/** How long a rotated-out secret keeps signing beside the new one. */
export const defaultRotationGraceMs = 24 * 60 * 60 * 1000;

/** An endpoint as callers see it: never its secrets. */
export interface EndpointView {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  /** While set and in the future, the previous secret still signs beside the current one. */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const viewColumns = {
  id: true,
  tenantId: true,
  url: true,
  events: true,
  enabled: true,
  disabledReason: true,
  consecutiveFailures: true,
  previousSecretExpiresAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

/**
 * Creates an endpoint; its plain secret is in the result and nowhere else, ever again. A tenant
 * with `maxEndpointsPerTenant` endpoints already (enabled or disabled) gets EndpointLimitError and
 * nothing is written. The count and the insert run under a lock on the tenant's row, so two
 * registrations at once cannot both take the last place.
 */
export async function createEndpoint(
  prisma: PrismaClient,
  settings: EndpointSettings,
  input: { tenantId: string; url: unknown; events: unknown },
): Promise<{ endpoint: EndpointView; secret: string }> {
  const { url, events } = parseEndpointInput(input, settings.allowPrivateNetworks);
  const secret = generateSecret();
  const secretEncrypted = encryptSecret(secret, settings.encryptionKey);
  if (!isUuid(input.tenantId)) throw new TenantNotFoundError(input.tenantId);
  const limit = settings.maxEndpointsPerTenant ?? defaultEndpointsPerTenantMax;
  const endpoint = await prisma.$transaction(async (tx) => {
    await lockTenant(tx, input.tenantId);
    if ((await tx.webhookEndpoint.count({ where: { tenantId: input.tenantId } })) >= limit) throw new EndpointLimitError(limit);
    return tx.webhookEndpoint.create({ data: { tenantId: input.tenantId, url, events, secretEncrypted }, select: viewColumns });
  });
  return { endpoint, secret };
}

/**
 * lockTenant: $1 the tenant. FOR NO KEY UPDATE serialises registrations of one tenant and leaves
 * the foreign-key checks of other inserts (FOR KEY SHARE: orders, users) unblocked.
 */
async function lockTenant(tx: Parameters<typeof query>[0], tenantId: string): Promise<void> {
  const rows = await query<{ id: string }>(tx, sql`SELECT id::text AS id FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`);
  if (rows.length === 0) throw new TenantNotFoundError(tenantId);
}

export async function listEndpoints(prisma: PrismaClient, tenantId: string): Promise<EndpointView[]> {
  await requireTenant(prisma, tenantId);
  return prisma.webhookEndpoint.findMany({ where: { tenantId }, select: viewColumns, orderBy: { createdAt: "asc" } });
}

/** The enabled endpoints of a tenant that subscribe to a webhook type (for the fan-out). */
export async function subscribedEndpoints(prisma: Pick<PrismaClient, "webhookEndpoint">, tenantId: string, type: EventFilter): Promise<{ id: string }[]> {
  return prisma.webhookEndpoint.findMany({
    where: { tenantId, enabled: true, events: { hasSome: [type, "*"] } },
    select: { id: true },
    orderBy: { createdAt: "asc" },
  });
}

export async function disableEndpoint(prisma: PrismaClient, tenantId: string, endpointId: string, reason = "disabled by the tenant"): Promise<EndpointView> {
  return updateOwned(prisma, tenantId, endpointId, { enabled: false, disabledReason: reason });
}

/** Enables an endpoint again and forgets its failure streak. */
export async function enableEndpoint(prisma: PrismaClient, tenantId: string, endpointId: string): Promise<EndpointView> {
  return updateOwned(prisma, tenantId, endpointId, { enabled: true, disabledReason: null, consecutiveFailures: 0 });
}

/**
 * A new secret, returned once. The current one becomes the previous one and keeps signing beside
 * the new one until `graceMs` from now, so receivers can switch without a failed delivery.
 */
export async function rotateSecret(
  prisma: PrismaClient,
  settings: Pick<EndpointSettings, "encryptionKey">,
  tenantId: string,
  endpointId: string,
  { graceMs = defaultRotationGraceMs }: { graceMs?: number } = {},
): Promise<{ endpoint: EndpointView; secret: string }> {
  if (!isUuid(tenantId) || !isUuid(endpointId)) throw new EndpointNotFoundError(endpointId);
  const secret = generateSecret();
  const secretEncrypted = encryptSecret(secret, settings.encryptionKey);
  const endpoint = await prisma.$transaction(async (tx) => {
    const current = await tx.webhookEndpoint.findFirst({ where: { id: endpointId, tenantId }, select: { secretEncrypted: true } });
    if (!current) throw new EndpointNotFoundError(endpointId);
    return tx.webhookEndpoint.update({
      where: { id: endpointId },
      data: {
        secretEncrypted,
        previousSecretEncrypted: current.secretEncrypted,
        previousSecretExpiresAt: new Date(Date.now() + graceMs),
      },
      select: viewColumns,
    });
  });
  return { endpoint, secret };
}

/** Why the deliveries of a deleted endpoint were not sent (their `last_error`). */
export const deletedEndpointReason = "the webhook endpoint was deleted; this delivery was not sent";

/**
 * Deletes an endpoint and, in the same transaction, ends its unsent deliveries: every WebhookDelivery
 * addressed to it that is still pending (waiting, or between retries) or dead becomes `skipped`,
 * finished now, with `deletedEndpointReason`. Their jobs, when they run, find the row no longer
 * runnable and send nothing. Its attempts go with it (the foreign key cascades). Returns how many
 * deliveries were skipped.
 */
export async function deleteEndpoint(prisma: PrismaClient, tenantId: string, endpointId: string): Promise<{ id: string; skippedDeliveries: number }> {
  if (!isUuid(tenantId) || !isUuid(endpointId)) throw new EndpointNotFoundError(endpointId);
  return prisma.$transaction(async (tx) => {
    // deleteOwned: $1 the endpoint, $2 the tenant. Zero rows: not this tenant's (or already deleted).
    const deleted = await query<{ id: string }>(
      tx,
      sql`DELETE FROM webhook_endpoints WHERE id = ${endpointId}::uuid AND tenant_id = ${tenantId}::uuid RETURNING id::text AS id`,
    );
    if (deleted.length === 0) throw new EndpointNotFoundError(endpointId);
    // A delivery a run marks sent at the same time is lost to the skip: it was sent, and is not counted.
    const skipped = await skipUnfinished(tx, {
      aggregateType: "webhook_endpoint",
      aggregateId: endpointId.toLowerCase(),
      eventType: "WebhookDelivery",
      reason: deletedEndpointReason,
    });
    return { id: endpointId.toLowerCase(), skippedDeliveries: skipped.changed.length };
  });
}

async function requireTenant(prisma: PrismaClient, tenantId: string): Promise<void> {
  const tenant = isUuid(tenantId) ? await prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true } }) : null;
  if (!tenant) throw new TenantNotFoundError(tenantId);
}

async function updateOwned(
  prisma: PrismaClient,
  tenantId: string,
  endpointId: string,
  data: { enabled: boolean; disabledReason: string | null; consecutiveFailures?: number },
): Promise<EndpointView> {
  if (!isUuid(tenantId) || !isUuid(endpointId)) throw new EndpointNotFoundError(endpointId);
  const { count } = await prisma.webhookEndpoint.updateMany({ where: { id: endpointId, tenantId }, data });
  if (count === 0) throw new EndpointNotFoundError(endpointId);
  return prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId }, select: viewColumns });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuid columns: anything else cannot exist, and Postgres would reject the cast. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
