import type { FastifyPluginCallback, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  endpointHealth,
  EncryptionKeyMissingError,
  EndpointDisabledError,
  EndpointLimitError,
  EndpointNotFoundError,
  InvalidEndpointError,
  listAttempts,
  listEndpoints,
  MessageNotFoundError,
  resendAll,
  resendMessage,
  ResendTooManyError,
  rotateSecret,
  setRetrySchedule,
  type EndpointSettings,
  type EndpointView,
} from "outbox-relay/webhooks";
import { requirePathTenant } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { answers, apiRefusals, bodyRefusals } from "../responses.ts";
import { isUuid } from "../validation.ts";
import * as schemas from "./webhook-schemas.ts";

export interface WebhookEndpointRoutesOptions {
  prisma: PrismaClient;
  config: Env;
}

/** outbox-relay/webhooks' endpoint settings from the environment: a tenant subscribes to the shop's webhook types and the engine's notifications. */
export function endpointSettingsFromConfig(config: Env): EndpointSettings {
  return {
    encryptionKey: config.ENCRYPTION_KEY,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    maxEndpointsPerTenant: config.WEBHOOK_ENDPOINTS_PER_TENANT_MAX,
    eventTypes: schemas.subscribableTypes,
  };
}

/** The tenant named in the path must exist (the package keeps no tenants): 404 TENANT_NOT_FOUND otherwise. */
export async function requireTenant(prisma: PrismaClient, tenantId: string): Promise<void> {
  const tenant = isUuid(tenantId) ? await prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true } }) : null;
  if (!tenant) throw notFound("tenant", tenantId);
}

/** An endpoint as this API shows it: here every endpoint has its tenant (the shop's column is NOT NULL). */
function tenantEndpoint<E extends EndpointView>(endpoint: E): E & { tenantId: string } {
  return { ...endpoint, tenantId: endpoint.tenantId! };
}

/** The statuses a route refuses with besides every /api route's own (401, 429, 503). */
const refusals = (...statuses: (400 | 404 | 409 | 413 | 415)[]) => answers({}, [...apiRefusals, ...statuses]);

/**
 * A tenant's webhook endpoints: register (the signing secret is in the 201 answer and never
 * again), list (never with secrets), disable, enable, rotate the secret, delete; each endpoint's
 * delivery attempts, newest first and paged; resend one message to it. Bad input answers 400 with
 * field-level issues; an unknown tenant or endpoint 404; a tenant at WEBHOOK_ENDPOINTS_PER_TENANT_MAX
 * endpoints 409 WEBHOOK_ENDPOINT_LIMIT; a server without ENCRYPTION_KEY 503. Only
 * the tenant's own key (or the admin) reaches them: another tenant's path answers 404.
 */
export const webhookEndpointRoutes: FastifyPluginCallback<WebhookEndpointRoutesOptions> = (plugin, { prisma, config }, done) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const settings = endpointSettingsFromConfig(config);
  const base = "/api/tenants/:id/webhook-endpoints";
  const one = `${base}/:endpointId`;

  app.post(
    base,
    { config: { access: "tenant" }, schema: { params: schemas.tenantParams, body: schemas.endpointBody(settings.allowPrivateNetworks), response: { 201: schemas.endpointWithSecret, ...refusals(...bodyRefusals, 404, 409) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      const { url, events, retrySchedule } = request.body;
      return answer(reply, async () => {
        await requireTenant(prisma, request.params.id);
        const { endpoint, secret } = await createEndpoint(prisma, settings, { tenantId: request.params.id, url, events, retrySchedule });
        return reply.code(201).send({ ...tenantEndpoint(endpoint), secret });
      });
    },
  );

  app.get(base, { config: { access: "tenant" }, schema: { params: schemas.tenantParams, response: { 200: schemas.endpointList, ...refusals(404) } } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, async () => {
      await requireTenant(prisma, request.params.id);
      return { endpoints: (await listEndpoints(prisma, request.params.id)).map(tenantEndpoint) };
    });
  });

  app.get(one, { config: { access: "tenant" }, schema: { params: schemas.endpointParams, response: { 200: schemas.endpointWithHealth, ...refusals(404) } } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, async () => tenantEndpoint(await endpointHealth(prisma, request.params.id, request.params.endpointId)));
  });

  app.patch(
    one,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, body: schemas.endpointChanges, response: { 200: schemas.endpointView, ...refusals(...bodyRefusals, 404) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      return answer(reply, async () => tenantEndpoint(await setRetrySchedule(prisma, request.params.id, request.params.endpointId, request.body.retrySchedule)));
    },
  );

  app.post(
    `${one}/disable`,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, body: schemas.disableBody, response: { 200: schemas.endpointView, ...refusals(400, 404) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      const reason = request.body?.reason?.trim();
      return answer(reply, async () => tenantEndpoint(await disableEndpoint(prisma, request.params.id, request.params.endpointId, reason ? reason.slice(0, 500) : undefined)));
    },
  );

  app.post(`${one}/enable`, { config: { access: "tenant" }, schema: { params: schemas.endpointParams, response: { 200: schemas.endpointView, ...refusals(404) } } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, async () => tenantEndpoint(await enableEndpoint(prisma, request.params.id, request.params.endpointId)));
  });

  app.post(
    `${one}/rotate-secret`,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, response: { 200: schemas.endpointWithSecret, ...refusals(404) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      return answer(reply, async () => {
        const { endpoint, secret } = await rotateSecret(prisma, settings, request.params.id, request.params.endpointId);
        return { ...tenantEndpoint(endpoint), secret };
      });
    },
  );

  app.delete(one, { config: { access: "tenant" }, schema: { params: schemas.endpointParams, response: { 200: schemas.deleted, ...refusals(404) } } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, () => deleteEndpoint(prisma, request.params.id, request.params.endpointId));
  });

  app.get(
    `${one}/attempts`,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, querystring: schemas.attemptsQuery, response: { 200: schemas.attemptPage, ...refusals(400, 404) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      const { limit, before } = request.query;
      return answer(reply, () => listAttempts(prisma, request.params.id, request.params.endpointId, { limit, before: before ?? null }));
    },
  );

  app.post(
    `${one}/resend`,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, body: schemas.resendBody, response: { 202: schemas.resent, ...refusals(...bodyRefusals, 404, 409) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      return answer(reply, async () => reply.code(202).send(await resendMessage(prisma, request.params.id, request.params.endpointId, request.body.eventId)));
    },
  );

  app.post(
    `${one}/resend-all`,
    { config: { access: "tenant" }, schema: { params: schemas.endpointParams, body: schemas.resendAllBody, response: { 200: schemas.resentAll, ...refusals(...bodyRefusals, 404, 409) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      const { since, onlyFailed, dryRun } = request.body;
      return answer(reply, () => resendAll(prisma, request.params.id, request.params.endpointId, { since: new Date(since), onlyFailed, dryRun }));
    },
  );
  done();
};

/**
 * Runs a route's work and maps outbox-relay/webhooks' errors to their status codes, naming this
 * service's variables where the package names its options; anything else goes to the app's error handler.
 */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (error) {
    // Codes as the rest of the API spells them (VALIDATION_FAILED, <THING>_NOT_FOUND).
    if (error instanceof InvalidEndpointError) return reply.code(400).send({ error: error.message, code: "VALIDATION_FAILED", issues: error.issues });
    if (error instanceof EndpointNotFoundError || error instanceof MessageNotFoundError) return reply.code(404).send({ error: error.message, code: error.code });
    if (error instanceof EndpointLimitError) return reply.code(409).send({ error: `${error.message} (WEBHOOK_ENDPOINTS_PER_TENANT_MAX=${error.limit})`, code: error.code });
    if (error instanceof EndpointDisabledError || error instanceof ResendTooManyError) return reply.code(409).send({ error: error.message, code: error.code });
    if (error instanceof EncryptionKeyMissingError) return reply.code(503).send({ error: encryptionKeyMissing, code: error.code });
    throw error;
  }
}

const encryptionKeyMissing = "ENCRYPTION_KEY is not set: webhook endpoints need it to encrypt their signing secrets (set at least 32 characters)";
