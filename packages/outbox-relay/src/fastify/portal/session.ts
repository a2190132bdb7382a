import type { FastifyReply, FastifyRequest } from "fastify";
import { verifyPortalToken, type PortalGrant } from "../../webhooks/index.ts";
import { Refusal } from "../errors.ts";

export const portalPath = "/portal";
/** The cookie a portal link is exchanged for: only the portal's paths get it back. */
export const sessionCookie = "outbox_portal_session";

declare module "fastify" {
  interface FastifyRequest {
    /** The tenant a portal request acts for (portalPlugin's session check sets it on the portal's pages). */
    portalGrant: PortalGrant | null;
  }
}

/** The value of one cookie in a request's Cookie header (the first one of that name), or undefined. */
export function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  /** The cookie's Secure attribute; undefined: when the request came over https. */
  secure: boolean | undefined;
}

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page or link
 * sends it along), Path=/portal, Secure over https, gone at the session's end (or now, to sign out).
 */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, options: CookieOptions, value: string, expiresAt: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  const secure = options.secure ?? request.protocol === "https";
  const attributes = [`${sessionCookie}=${value}`, `Path=${portalPath}`, `Max-Age=${maxAge}`, "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])];
  void reply.header("set-cookie", attributes.join("; "));
}

export const noSession = () =>
  new Refusal(401, "PORTAL_SESSION_REQUIRED", "Your portal session has ended or was never opened. Ask for a new portal link (the API's POST /api/tenants/:id/portal-links) and open it.");

/**
 * The onRequest hook of every portal page but the one that opens a link: the session cookie must
 * be a session token signed with this server's key and not yet expired; its tenant is then the
 * only one the request may act for (`request.portalGrant`). Anything else is 401: an Authorization
 * header (an API key, the admin's password) counts for nothing here. A cookie on a server without
 * a signing key throws PortalKeyMissingError (503).
 */
export function requireSession(signingKey: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = cookieValue(request, sessionCookie);
    const grant = token ? verifyPortalToken(signingKey, "session", token) : null;
    if (!grant) throw noSession();
    request.portalGrant = grant;
  };
}
