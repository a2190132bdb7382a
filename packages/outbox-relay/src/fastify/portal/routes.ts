import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  createEndpoint,
  decodeAttemptCursor,
  disableEndpoint,
  enableEndpoint,
  InvalidEndpointError,
  listAttempts,
  listEndpoints,
  endpointHealth,
  EndpointNotFoundError,
  resendMessage,
  rotateSecret,
  sendTestMessage,
  signPortalToken,
  verifyPortalToken,
  type EndpointSettings,
  type PortalGrant,
  type WebhookDatabase,
} from "../../webhooks/index.ts";
import { Refusal } from "../errors.ts";
import { pageHeaders } from "../outbox-page/layout.ts";
import type { Html } from "../outbox-page/html.ts";
import type { Banner } from "../outbox-page/views.ts";
import { addForm, disableForm, endpointParams, notices, openQuery, pageQuery, resendForm } from "./forms.ts";
import { refusalOf } from "./refusals.ts";
import { messageTypes } from "./queries.ts";
import { portalPath, requireSession, setSessionCookie, type CookieOptions } from "./session.ts";
import { endpointPath, endpointsView, endpointView, openView, secretView, signedOutView, signOutPath } from "./views.ts";

export interface PortalContext {
  db: WebhookDatabase;
  endpoints: EndpointSettings;
  /** Without it, verifying a link or a session throws PortalKeyMissingError (503). */
  signingKey: string | undefined;
  sessionTtlMs: number;
  cookie: CookieOptions;
}

export const send = (reply: FastifyReply, page: Html, status = 200, headers: Record<string, string> = {}) =>
  reply.status(status).headers({ ...pageHeaders, ...headers }).send(page.text);

const schema = { hide: true };

/**
 * GET /portal/open?token=…: a page that names the tenant and asks to open its portal, setting
 * nothing; its form POSTs the token back (a same-origin form: another site cannot sign a browser
 * in to a portal of its choosing), and that sets the session cookie and redirects to /portal.
 */
export async function openRoute(parent: FastifyInstance, { signingKey, sessionTtlMs, cookie }: PortalContext): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const grantOf = (token: string | undefined) => {
    const grant = token ? verifyPortalToken(signingKey, "link", token) : null;
    if (!grant) throw new Refusal(401, "PORTAL_LINK_INVALID", "This portal link has expired or is not valid. Ask for a new one.");
    return grant;
  };
  app.get(`${portalPath}/open`, { schema: { ...schema, querystring: openQuery } }, async (request, reply) => {
    const grant = grantOf(request.query.token);
    return send(reply, openView(grant, request.query.token!), 200, { "referrer-policy": "no-referrer" });
  });
  app.post(`${portalPath}/open`, { schema: { ...schema, body: openQuery.nullish() } }, async (request, reply) => {
    const grant = grantOf(request.body?.token);
    const session = signPortalToken(signingKey, "session", grant.tenantId, sessionTtlMs);
    setSessionCookie(reply, request, cookie, session.token, session.expiresAt);
    return reply.code(303).header("referrer-policy", "no-referrer").redirect(portalPath);
  });
}

/** The tenant's pages and forms, behind its session: every operation acts for the session's tenant only. */
export async function sessionRoutes(parent: FastifyInstance, context: PortalContext): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, endpoints: settings } = context;
  app.addHook("onRequest", requireSession(context.signingKey));
  const grantOf = (request: FastifyRequest): PortalGrant => request.portalGrant!;

  async function renderEndpoints(reply: FastifyReply, grant: PortalGrant, message?: Banner, status = 200, form?: Parameters<typeof endpointsView>[4]) {
    return send(reply, endpointsView(grant, await listEndpoints(db, grant.tenantId), settings.eventTypes, message, form), status);
  }

  async function renderEndpoint(reply: FastifyReply, grant: PortalGrant, endpointId: string, page: { before?: string | undefined; limit: number }, message?: Banner, status = 200) {
    const endpoint = await endpointHealth(db, grant.tenantId, endpointId).catch((error: unknown) => {
      if (error instanceof EndpointNotFoundError) throw new Refusal(404, "WEBHOOK_ENDPOINT_NOT_FOUND", `You have no endpoint ${endpointId}.`);
      throw error;
    });
    if (page.before !== undefined && decodeAttemptCursor(page.before) === null) throw new Refusal(400, "VALIDATION_FAILED", "before is not a page of this list");
    const attempts = await listAttempts(db, grant.tenantId, endpoint.id, { limit: page.limit, before: page.before ?? null });
    const types = await messageTypes(db, attempts.attempts.map((attempt) => attempt.eventId));
    return send(reply, endpointView(grant, endpoint, attempts, types, page.limit, message), status);
  }

  /** Runs an endpoint's action; a refusal (not found, disabled, no key) shows on the endpoint's page with its status. */
  async function act(request: FastifyRequest<{ Params: { endpointId: string } }>, reply: FastifyReply, work: (grant: PortalGrant) => Promise<FastifyReply>) {
    const grant = grantOf(request);
    try {
      return await work(grant);
    } catch (error) {
      const refused = refusalOf(error);
      if (!refused || refused.statusCode === 404) throw refused ?? error;
      return renderEndpoint(reply, grant, request.params.endpointId, { limit: pageQuery.parse({}).limit }, { kind: "problem", text: refused.message }, refused.statusCode);
    }
  }

  const noticed = (endpointId: string, notice: keyof typeof notices) => `${endpointPath(endpointId)}?notice=${notice}`;

  app.get(portalPath, { schema }, async (request, reply) => renderEndpoints(reply, grantOf(request)));

  app.post(`${portalPath}/endpoints`, { schema: { ...schema, body: addForm } }, async (request, reply) => {
    const grant = grantOf(request);
    const { url, events } = request.body;
    try {
      const { endpoint, secret } = await createEndpoint(db, settings, { tenantId: grant.tenantId, url, events });
      return send(reply, secretView(grant, endpoint, secret, false), 201);
    } catch (error) {
      if (error instanceof InvalidEndpointError) return renderEndpoints(reply, grant, { kind: "problem", text: "The endpoint was not added:" }, 400, { url, events, issues: error.issues });
      const refused = refusalOf(error);
      if (!refused) throw error;
      return renderEndpoints(reply, grant, { kind: "problem", text: refused.message }, refused.statusCode, { url, events });
    }
  });

  const one = `${portalPath}/endpoints/:endpointId`;

  app.get(one, { schema: { ...schema, params: endpointParams, querystring: pageQuery } }, async (request, reply) => {
    const { notice, ...page } = request.query;
    return renderEndpoint(reply, grantOf(request), request.params.endpointId, page, notice ? { kind: "notice", text: notices[notice] } : undefined);
  });

  app.post(`${one}/disable`, { schema: { ...schema, params: endpointParams, body: disableForm } }, async (request, reply) =>
    act(request, reply, async (grant) => {
      const reason = request.body?.reason?.trim() || undefined;
      await disableEndpoint(db, grant.tenantId, request.params.endpointId, reason);
      return reply.redirect(noticed(request.params.endpointId, "disabled"), 303);
    }),
  );

  app.post(`${one}/enable`, { schema: { ...schema, params: endpointParams } }, async (request, reply) =>
    act(request, reply, async (grant) => {
      await enableEndpoint(db, grant.tenantId, request.params.endpointId);
      return reply.redirect(noticed(request.params.endpointId, "enabled"), 303);
    }),
  );

  app.post(`${one}/rotate-secret`, { schema: { ...schema, params: endpointParams } }, async (request, reply) =>
    act(request, reply, async (grant) => {
      const { endpoint, secret } = await rotateSecret(db, settings, grant.tenantId, request.params.endpointId);
      return send(reply, secretView(grant, endpoint, secret, true));
    }),
  );

  app.post(`${one}/test`, { schema: { ...schema, params: endpointParams } }, async (request, reply) =>
    act(request, reply, async (grant) => {
      await sendTestMessage(db, grant.tenantId, request.params.endpointId);
      return reply.redirect(noticed(request.params.endpointId, "tested"), 303);
    }),
  );

  app.post(`${one}/resend`, { schema: { ...schema, params: endpointParams, body: resendForm } }, async (request, reply) =>
    act(request, reply, async (grant) => {
      await resendMessage(db, grant.tenantId, request.params.endpointId, request.body.eventId);
      return reply.redirect(noticed(request.params.endpointId, "resent"), 303);
    }),
  );

  app.post(signOutPath, { schema }, async (request, reply) => {
    setSessionCookie(reply, request, context.cookie, "", new Date(0));
    return send(reply, signedOutView());
  });
}

