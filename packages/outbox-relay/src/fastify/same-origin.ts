import type { FastifyRequest } from "fastify";
import { Refusal } from "./errors.ts";

/**
 * Whether a request was sent by a page of this site, not another one. A browser sends an admin's
 * basic credentials or cookies with any site's form or fetch, so a state-changing admin request must carry
 * `Sec-Fetch-Site: same-origin` (or `none`: typed in the address bar), or, from an older browser,
 * an `Origin` equal to this server's. A client that sends neither (curl, the CLI, a script) is not
 * a browser and passes.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (typeof site === "string") return site === "same-origin" || site === "none";
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === new URL(`${request.protocol}://${request.headers.host ?? ""}`).origin;
  } catch {
    return false;
  }
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request may change state (anything but GET, HEAD and OPTIONS). */
export const changesState = (request: FastifyRequest): boolean => !safeMethods.has(request.method);

/**
 * An onRequest hook that refuses (403 CROSS_SITE_REQUEST) a state-changing request another site's
 * page sent: the admin routes' defence against cross-site request forgery, whatever the app's
 * authentication (basic credentials and cookies go along with another site's forms).
 */
export async function refuseCrossSite(request: FastifyRequest): Promise<void> {
  if (changesState(request) && !sameOrigin(request)) {
    throw new Refusal(403, "CROSS_SITE_REQUEST", "a request that changes the outbox must come from this site's own pages (or from a client that is not a browser)");
  }
}
