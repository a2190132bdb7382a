import type { FastifyPluginCallback } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Env } from "@outbox/config";
import type { PrismaClient } from "@outbox/db";
import { mintPortalLink, PortalKeyMissingError } from "outbox-relay/webhooks";
import { requirePathTenant } from "../auth/access.ts";
import { ApiError } from "../errors.ts";
import { answers, apiRefusals, timestamp } from "../responses.ts";
import { requireTenant } from "./webhook-endpoints.ts";
import { tenantParams } from "./webhook-schemas.ts";

export interface PortalLinkRoutesOptions {
  prisma: PrismaClient;
  config: Env;
}

const portalLink = z
  .object({
    url: z.string().meta({ format: "uri", description: "opens the tenant's webhook portal; a credential: give it to the tenant only" }),
    expiresAt: timestamp.meta({ description: "the link must be opened before this; the session it opens lasts an hour" }),
  })
  .meta({ description: "A short-lived link to the tenant's webhook portal" });

/**
 * POST /api/tenants/:id/portal-links: a link to the tenant's webhook portal (/portal), for the
 * tenant's own key or the admin, valid 15 minutes; opening it starts a one-hour session in that
 * browser. Signed with a key derived from ENCRYPTION_KEY (outbox-relay/webhooks' mintPortalLink),
 * so without ENCRYPTION_KEY it answers 503. The link's host is this request's (Host, or
 * X-Forwarded-Host behind API_TRUST_PROXY).
 */
export const portalLinkRoutes: FastifyPluginCallback<PortalLinkRoutesOptions> = (plugin, { prisma, config }, done) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.post(
    "/api/tenants/:id/portal-links",
    { config: { access: "tenant" }, schema: { params: tenantParams, response: { 201: portalLink, ...answers({}, [...apiRefusals, 404]) } } },
    async (request, reply) => {
      requirePathTenant(request, request.params.id);
      await requireTenant(prisma, request.params.id);
      try {
        const { url, expiresAt } = mintPortalLink(config.ENCRYPTION_KEY, { tenantId: request.params.id, baseUrl: `${request.protocol}://${request.host}` });
        return reply.code(201).send({ url, expiresAt: expiresAt.toISOString() });
      } catch (error) {
        if (error instanceof PortalKeyMissingError) throw new ApiError(503, error.code, portalKeyMissing);
        throw error;
      }
    },
  );
  done();
};

const portalKeyMissing = "ENCRYPTION_KEY is not set: portal links are signed with a key derived from it (set at least 32 characters)";
