import type { FastifyContextConfig, FastifyError, FastifyPluginAsync, FastifyRequest } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { webhookDefaults, type EndpointSettings, type WebhookDatabase } from "../../webhooks/index.ts";
import { Refusal } from "../errors.ts";
import { documentRoute } from "../plugin.ts";
import { changesState, sameOrigin } from "../same-origin.ts";
import { parseForm } from "./forms.ts";
import { refusalOf } from "./refusals.ts";
import { openRoute, send, sessionRoutes } from "./routes.ts";
import { problemView } from "./views.ts";

export interface PortalPluginOptions {
  /** Where the webhook tables are: the package's `Database`, or the service's Prisma client. */
  database: WebhookDatabase;
  /** The settings the service's API registers endpoints with: the encryption key, private networks, the per-tenant cap, the event types offered. */
  endpoints: EndpointSettings;
  /**
   * The server secret (32+ characters) that signs portal links and sessions: the one the service
   * mints links with (`mintPortalLink`). Without it a request that presents a link or a session
   * answers 503 WEBHOOK_PORTAL_KEY_MISSING (one that presents neither, 401).
   */
  signingKey: string | undefined;
  /** How long the session an opened link starts lasts (default `webhookDefaults.portalSessionTtlMs`, 1 h). */
  sessionTtlMs?: number;
  /** The session cookie's Secure attribute; by default set when the request came over https (`request.protocol`, so behind a proxy set Fastify's trustProxy). */
  secureCookie?: boolean;
  /** Merged into each of the plugin's routes' `config`, for an app that decides access from the matched route (the order shop's `{ access: "portal" }`). */
  routeConfig?: FastifyContextConfig;
}

/** Refuses a state-changing request another site's page sent (403 CROSS_SITE_REQUEST), besides the cookie's SameSite=Strict. */
async function refuseCrossSite(request: FastifyRequest): Promise<void> {
  if (changesState(request) && !sameOrigin(request)) {
    throw new Refusal(403, "CROSS_SITE_REQUEST", "A request that changes your webhooks must come from the portal's own pages.");
  }
}

/**
 * A tenant's webhook portal at /portal, server-rendered, for any service with the webhook tables:
 * the tenant's endpoints, their state and delivery attempts; add an endpoint (its secret shown
 * once), disable, enable, rotate a secret, send a test message, resend a message. A link the
 * service mints (`mintPortalLink` of outbox-relay/webhooks) opens it at /portal/open?token=…, a
 * page naming the tenant whose button (a same-origin POST) exchanges the link for an HttpOnly,
 * SameSite=Strict session cookie and moves on to the clean URL; every other page needs that session, and acts for its tenant only. No script, every
 * value escaped, the outbox page's CSP; a write sent by another site's page is refused.
 */
export const portalPlugin: FastifyPluginAsync<PortalPluginOptions> = async (app, options) => {
  if (app.prefix !== "") throw new Error(`outbox-relay/fastify: register portalPlugin without a prefix (here "${app.prefix}"): its pages link to /portal/…`);
  app.addHook("onRoute", (route) => {
    route.config = { swaggerTransform: documentRoute, ...route.config, ...options.routeConfig };
  });
  app.decorateRequest("portalGrant", null);
  app.addHook("onRequest", refuseCrossSite);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, parseForm(body as string)));
  // Every refusal as a page, the app's own hooks' included (a NUL byte in a field, a rate limit).
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const refused = refusalOf(error);
    const status = refused?.statusCode ?? (error.statusCode && error.statusCode < 500 ? error.statusCode : 500);
    if (status >= 500 && !refused) request.log.error({ err: error }, "webhook portal failed");
    if (status === 401) void reply.header("www-authenticate", 'PortalLink realm="webhook portal"');
    if (status === 503) void reply.header("retry-after", "1");
    const text = status === 500 ? "Something went wrong on our side; try again." : (refused?.message ?? error.message);
    const title = status === 401 ? "Portal link needed" : status === 404 ? "Not found" : "Refused";
    return send(reply, problemView(title, text, status === 401 ? null : request.portalGrant), status);
  });

  const context = {
    db: options.database,
    endpoints: options.endpoints,
    signingKey: options.signingKey,
    sessionTtlMs: options.sessionTtlMs ?? webhookDefaults.portalSessionTtlMs,
    cookie: { secure: options.secureCookie },
  };
  await app.register(openRoute, context);
  await app.register(sessionRoutes, context);
};
