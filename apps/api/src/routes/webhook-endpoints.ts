import type { FastifyPluginCallback, FastifyReply } from "fastify";
import type { Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import {
  createEndpoint,
  disableEndpoint,
  enableEndpoint,
  endpointSettingsFromConfig,
  EncryptionKeyMissingError,
  EndpointNotFoundError,
  InvalidEndpointError,
  listEndpoints,
  rotateSecret,
  TenantNotFoundError,
} from "@outbox/webhooks";
import { requirePathTenant } from "../auth/access.ts";

export interface WebhookEndpointRoutesOptions {
  prisma: PrismaClient;
  config: Env;
}

type TenantParams = { id: string };
type EndpointParams = { id: string; endpointId: string };

const tenantParams = {
  type: "object",
  properties: { id: { type: "string" } },
  required: ["id"],
} as const;
const endpointParams = {
  type: "object",
  properties: { id: { type: "string" }, endpointId: { type: "string" } },
  required: ["id", "endpointId"],
} as const;

/**
 * A tenant's webhook endpoints: register (the signing secret is in the 201 answer and never
 * again), list (never with secrets), disable, enable, rotate the secret. Bad input answers 400 with
 * field-level issues; an unknown tenant or endpoint 404; a server without ENCRYPTION_KEY 503. Only
 * the tenant's own key (or the admin) reaches them: another tenant's path answers 404.
 */
export const webhookEndpointRoutes: FastifyPluginCallback<WebhookEndpointRoutesOptions> = (app, { prisma, config }, done) => {
  const settings = endpointSettingsFromConfig(config);

  app.post<{ Params: TenantParams; Body: unknown }>("/api/tenants/:id/webhook-endpoints", { schema: { params: tenantParams } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return reply.code(400).send({ error: "the body must be a JSON object {url, events}", code: "VALIDATION_FAILED", issues: [{ path: "", message: "must be a JSON object" }] });
    }
    const { url, events } = body as { url?: unknown; events?: unknown };
    return answer(reply, async () => {
      const { endpoint, secret } = await createEndpoint(prisma, settings, { tenantId: request.params.id, url, events });
      return reply.code(201).send({ ...endpoint, secret });
    });
  });

  app.get<{ Params: TenantParams }>("/api/tenants/:id/webhook-endpoints", { schema: { params: tenantParams } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, async () => ({ endpoints: await listEndpoints(prisma, request.params.id) }));
  });

  app.post<{ Params: EndpointParams; Body: { reason?: unknown } | undefined }>(
    "/api/tenants/:id/webhook-endpoints/:endpointId/disable",
    { schema: { params: endpointParams } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      const reason = request.body?.reason;
      const given = typeof reason === "string" && reason.trim() !== "" ? reason.trim().slice(0, 500) : undefined;
      return answer(reply, () => disableEndpoint(prisma, request.params.id, request.params.endpointId, given));
    },
  );

  app.post<{ Params: EndpointParams }>("/api/tenants/:id/webhook-endpoints/:endpointId/enable", { schema: { params: endpointParams } }, async (request, reply) => {
    requirePathTenant(request, request.params.id);
    return answer(reply, () => enableEndpoint(prisma, request.params.id, request.params.endpointId));
  });

  app.post<{ Params: EndpointParams }>(
    "/api/tenants/:id/webhook-endpoints/:endpointId/rotate-secret",
    { schema: { params: endpointParams } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      return answer(reply, async () => {
        const { endpoint, secret } = await rotateSecret(prisma, settings, request.params.id, request.params.endpointId);
        return { ...endpoint, secret };
      });
    },
  );
  done();
};

/** Runs a route's work and maps this package's errors to their status codes; anything else goes to the app's error handler. */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (error) {
    // Codes as the rest of the API spells them (VALIDATION_FAILED, <THING>_NOT_FOUND).
    if (error instanceof InvalidEndpointError) return reply.code(400).send({ error: error.message, code: "VALIDATION_FAILED", issues: error.issues });
    if (error instanceof TenantNotFoundError) return reply.code(404).send({ error: error.message, code: "TENANT_NOT_FOUND" });
    if (error instanceof EndpointNotFoundError) return reply.code(404).send({ error: error.message, code: error.code });
    if (error instanceof EncryptionKeyMissingError) return reply.code(503).send({ error: error.message, code: error.code });
    throw error;
  }
}
