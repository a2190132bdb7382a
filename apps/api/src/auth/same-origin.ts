import type { FastifyRequest } from "fastify";

/**
 * Whether a request was sent by a page of this site, not another one. A browser sends the admin's
 * basic credentials with any site's form or fetch, so a state-changing admin request must carry
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
