import { execute, query, type Executor } from "../events/index.ts";
import { sql, type Statement } from "../sql/index.ts";
import { webhookDefaults } from "./defaults.ts";
import { parseEndpointInput } from "./endpoint-input.ts";
import { EndpointLimitError, InvalidEndpointError } from "./errors.ts";
import { encryptSecret, generateSecret } from "./secrets.ts";
import { inTransaction, type WebhookDatabase } from "./store.ts";

export interface EndpointSettings {
  /** Encrypts the signing secrets at rest (at least 32 characters); without it, creating an endpoint or rotating its secret throws EncryptionKeyMissingError. */
  encryptionKey: string | undefined;
  /** Lets endpoints be on loopback, private or link-local addresses, and on plain http: only where receivers are trusted. */
  allowPrivateNetworks: boolean;
  /** Endpoints one tenant may have (default `webhookDefaults.maxEndpointsPerTenant`). */
  maxEndpointsPerTenant?: number;
  /** The event types an endpoint may subscribe to (besides "*"); any name when absent. */
  eventTypes?: readonly string[];
}

/** An endpoint as callers see it: never its secrets. */
export interface EndpointView {
  id: string;
  /** The tenant it belongs to; null for an endpoint of no tenant (a service without tenants). */
  tenantId: string | null;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  /** Failed attempts in a row (a success resets it). */
  consecutiveFailures: number;
  /** The endpoint's own retry schedule (`0,1m,10m`), or null: the service's. */
  retrySchedule: string | null;
  /** When it was disabled (410 Gone, failing too long, or by hand), else null. */
  disabledAt: Date | null;
  /** The first failed attempt since the last success, else null. */
  failingSince: Date | null;
  /** While set and in the future, the previous secret still signs beside the current one. */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint's schedule as a tenant writes it (`0,1m,10m`): each wait in its largest whole unit. */
const scheduleText = sql`(
  SELECT string_agg(CASE
      WHEN w = 0 THEN '0'
      WHEN w % 86400000 = 0 THEN (w / 86400000) || 'd'
      WHEN w % 3600000 = 0 THEN (w / 3600000) || 'h'
      WHEN w % 60000 = 0 THEN (w / 60000) || 'm'
      WHEN w % 1000 = 0 THEN (w / 1000) || 's'
      ELSE w || 'ms' END, ',' ORDER BY n)
  FROM unnest(retry_schedule) WITH ORDINALITY AS waits(w, n))`;

export const viewColumns = sql`
  id::text AS id, tenant_id::text AS "tenantId", url, events, enabled, disabled_reason AS "disabledReason",
  consecutive_failures AS "consecutiveFailures", ${scheduleText} AS "retrySchedule", disabled_at AS "disabledAt",
  failing_since AS "failingSince", previous_secret_expires_at AS "previousSecretExpiresAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The condition that a row belongs to the tenant (a UUID), or to no tenant (null). */
export function ofTenant(tenantId: string | null): Statement {
  return tenantId === null ? sql`tenant_id IS NULL` : sql`tenant_id = ${tenantId}::uuid`;
}

/**
 * Creates an endpoint; its plain secret is in the result and nowhere else, ever again. A tenant
 * with `maxEndpointsPerTenant` endpoints already (enabled or disabled) gets EndpointLimitError and
 * nothing is written. The count and the insert run under a lock of the tenant's registrations, so
 * two at once cannot both take the last place. The tenant is not checked: a service whose tenants
 * are rows checks that first (or adds a foreign key).
 */
export async function createEndpoint(
  db: WebhookDatabase,
  settings: EndpointSettings,
  input: { tenantId?: string | null; url: unknown; events: unknown; retrySchedule?: unknown },
): Promise<{ endpoint: EndpointView; secret: string }> {
  const tenantId = input.tenantId ?? null;
  if (tenantId !== null && !isUuid(tenantId)) throw new InvalidEndpointError([{ path: "tenantId", message: "must be a UUID" }]);
  const { url, events, retrySchedule } = parseEndpointInput(input, settings);
  const secret = generateSecret();
  const secretEncrypted = encryptSecret(secret, settings.encryptionKey);
  const limit = settings.maxEndpointsPerTenant ?? webhookDefaults.maxEndpointsPerTenant;
  const endpoint = await inTransaction(db, async (tx) => {
    await lockRegistrations(tx, tenantId);
    if ((await countEndpoints(tx, tenantId)) >= limit) throw new EndpointLimitError(limit);
    return insertEndpoint(tx, { tenantId, url, events, retrySchedule, secretEncrypted });
  });
  return { endpoint, secret };
}

/**
 * lockRegistrations: $1 the tenant. A transaction-scoped advisory lock per tenant (its id hashed):
 * registrations of one tenant queue on it; it locks no row, so nothing else waits. Run as a command,
 * since its result is `void`, a type Prisma cannot read.
 */
async function lockRegistrations(tx: Executor, tenantId: string | null): Promise<void> {
  await execute(tx, sql`SELECT pg_advisory_xact_lock(hashtextextended(${`outbox-relay webhook endpoints ${tenantId ?? ""}`}::text, 0))`);
}

/** countEndpoints: $1 the tenant. Its endpoints, enabled or disabled; reads webhook_endpoints_tenant_id_idx. */
async function countEndpoints(tx: Executor, tenantId: string | null): Promise<number> {
  const [row] = await query<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM webhook_endpoints WHERE ${ofTenant(tenantId)}`);
  return row?.n ?? 0;
}

async function insertEndpoint(
  tx: Executor,
  row: { tenantId: string | null; url: string; events: string[]; retrySchedule: readonly number[] | null; secretEncrypted: string },
): Promise<EndpointView> {
  const [endpoint] = await query<EndpointView>(tx, sql`
    INSERT INTO webhook_endpoints (id, tenant_id, url, events, retry_schedule, secret_encrypted)
    VALUES (gen_random_uuid(), ${row.tenantId}::uuid, ${row.url}, ${row.events}::text[], ${row.retrySchedule}::integer[], ${row.secretEncrypted})
    RETURNING ${viewColumns}`);
  return endpoint!;
}

/** The tenant's endpoints (null: those of no tenant), oldest first; never their secrets. */
export async function listEndpoints(db: Executor, tenantId: string | null): Promise<EndpointView[]> {
  if (tenantId !== null && !isUuid(tenantId)) return [];
  return query<EndpointView>(db, sql`SELECT ${viewColumns} FROM webhook_endpoints WHERE ${ofTenant(tenantId)} ORDER BY created_at, id`);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuid columns: anything else cannot exist, and Postgres would reject the cast. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Whether an endpoint id and a tenant (or none) could name a row at all. */
export function couldOwn(tenantId: string | null, endpointId: string): boolean {
  return isUuid(endpointId) && (tenantId === null || isUuid(tenantId));
}
