import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import { changesState, sameOrigin } from "outbox-relay/fastify";
import { ApiError } from "../errors.ts";
import { identifyAdmin, identifyBearer, presentedIn, type Credentials, type Identity, type Presented } from "./authenticate.ts";
import { routeAccesses, type Caller, type RouteAccess } from "./caller.ts";
import type { FailedLogins } from "./failed-logins.ts";

export interface RouteAccessOptions extends Credentials {
  failedLogins: FailedLogins;
}

export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route registered so far, with the access it declares (route-access.ts). */
    declaredRoutes(): DeclaredRoute[];
  }
}

const adminChallenge = 'Basic realm="outbox admin"';
/** The accesses this hook checks credentials for: a public route needs none, a portal route is checked by the portal plugin (its session cookie). */
type Checked = Exclude<RouteAccess, "public" | "portal">;

const challenges: Record<Checked, string> = { tenant: "Bearer", admin: adminChallenge, metrics: `Bearer, ${adminChallenge}` };
const needs: Record<Checked, string> = {
  tenant: "an API key (Authorization: Bearer <apiKey>) or the admin credentials",
  admin: "the admin credentials (HTTP basic)",
  metrics: "the admin credentials (HTTP basic) or the metrics token (Authorization: Bearer <METRICS_TOKEN>)",
};
const refusals = {
  missing: { code: "AUTHENTICATION_REQUIRED", message: (access: keyof typeof needs) => `this route needs ${needs[access]}` },
  invalid: { code: "INVALID_CREDENTIALS", message: (access: keyof typeof needs) => `the credentials are not valid; this route needs ${needs[access]}` },
  revoked: { code: "API_KEY_REVOKED", message: () => "this API key was revoked" },
} as const;
const allowed: Record<Checked, ReadonlyArray<Caller["kind"]>> = { tenant: ["admin", "tenant"], admin: ["admin"], metrics: ["admin", "metrics"] };

const isRouteAccess = (value: unknown): value is RouteAccess => (routeAccesses as readonly unknown[]).includes(value);

/** The access of the route the router matched: a request that matched none (404) is public; an undeclared route is the admin's. */
function accessOf(request: FastifyRequest): RouteAccess {
  if (request.is404) return "public";
  const access = request.routeOptions.config.access;
  return isRouteAccess(access) ? access : "admin";
}

/** Every route registered in `scope` (a third-party plugin's, such as Swagger UI's) that declares no access gets `access`. */
export function declareAccess(scope: FastifyInstance, access: RouteAccess): void {
  scope.addHook("onRoute", (route) => {
    route.config = { ...route.config, access: route.config?.access ?? access };
  });
}

function throttled(waitMs: number, user?: string): ApiError {
  const seconds = Math.ceil(waitMs / 1000);
  const who = user === undefined ? "this address" : "this address or for this user name";
  return new ApiError(429, "TOO_MANY_FAILED_LOGINS", `too many failed authentications from ${who}; retry in ${seconds} s`, undefined, { "retry-after": String(seconds) });
}

/**
 * Who presented credentials, throttling guesses (failed-logins.ts). Past a count a password is not
 * checked at all (no oracle). A valid API key always passes (256 random bits cannot
 * be guessed, so a guesser behind the same address cannot lock its tenant out); a wrong one counts
 * against its address.
 */
async function authenticate(options: RouteAccessOptions, presented: Presented, address: string): Promise<Identity> {
  const { failedLogins } = options;
  if (presented.kind === "none") return { refused: "missing" };
  if (presented.kind === "basic") {
    const { waitMs, counted } = await failedLogins.beforePassword(address, presented.user);
    if (waitMs > 0) throw throttled(waitMs, presented.user);
    const identity = identifyAdmin(options.admin, presented.user, presented.password);
    await failedLogins.afterPassword(address, presented.user, "caller" in identity, counted);
    return identity;
  }
  const identity = presented.kind === "bearer" ? await identifyBearer(options, presented.token) : ({ refused: "invalid" } as const);
  if ("caller" in identity) return identity;
  const waitMs = await failedLogins.wrongKey(address);
  if (waitMs > 0) throw throttled(waitMs);
  return identity;
}

function refusedCaller(access: Checked, caller: Caller): ApiError {
  if (access === "tenant") return new ApiError(403, "API_KEY_REQUIRED", "the metrics token reads /metrics only; this route needs an API key or the admin credentials");
  return new ApiError(403, "ADMIN_REQUIRED", `this route needs ${needs[access]}, not ${caller.kind === "tenant" ? "an API key" : "the metrics token"}`);
}

/**
 * One hook decides every request's access from the route the router matched (its `config: {
 * access }`), never from the URL's text, so every spelling of a path the router accepts gets the
 * same answer. Refusals: no or bad credentials 401 with a `WWW-Authenticate` challenge; the wrong
 * kind of caller 403; too many failed guesses 429; a state-changing admin request sent by another
 * site's page 403 `CROSS_SITE_REQUEST`. The caller is on `request.caller`. A `public` route needs
 * no credentials and a `portal` route is the portal plugin's to check (its session cookie; no
 * caller is set). At start-up (`ready()`), a route that declares no access is an error.
 */
export function registerRouteAccess(app: FastifyInstance, options: RouteAccessOptions): void {
  app.decorateRequest("caller", null);
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (route) => void routes.push(route));
  app.decorate("declaredRoutes", () =>
    routes.flatMap((route) => [route.method].flat().map((method) => ({ method, url: route.url, access: isRouteAccess(route.config?.access) ? route.config.access : undefined }))),
  );
  app.addHook("onReady", async () => {
    const undeclared = app.declaredRoutes().filter((route) => route.access === undefined);
    if (undeclared.length > 0) throw new Error(`routes that declare no access (config: { access }): ${undeclared.map((route) => `${route.method} ${route.url}`).join(", ")}`);
  });
  app.addHook("onRequest", async (request, reply) => {
    try {
      await decideAccess(options, request);
    } catch (error) {
      // On the reply too: a plugin's own error handler (Bull Board's, the outbox page's) must not drop the challenge or Retry-After.
      if (error instanceof ApiError && error.headers) void reply.headers(error.headers);
      throw error;
    }
  });
  // No page of this server may be framed by another site: a framed admin page's own requests would be same-origin.
  app.addHook("onSend", async (_request, reply) => {
    void reply.header("x-frame-options", "DENY");
    if (!reply.hasHeader("content-security-policy")) void reply.header("content-security-policy", "frame-ancestors 'none'");
  });
}

/**
 * The authenticate hook of outbox-relay/fastify's routes. Its routes declare `access: "admin"`
 * (app.ts), so the access hook, which runs first, has already refused anyone else: this holds them
 * to it should that declaration ever change.
 */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (request.caller?.kind !== "admin") throw new ApiError(403, "ADMIN_REQUIRED", `this route needs ${needs.admin}`);
}

/** Sets `request.caller`, or throws the refusal: 401, 403 or 429. */
async function decideAccess(options: RouteAccessOptions, request: FastifyRequest): Promise<void> {
  const access = accessOf(request);
  if (access === "public" || access === "portal") return;
  const identity = await authenticate(options, presentedIn(request.headers.authorization), request.ip);
  if ("refused" in identity) {
    const refusal = refusals[identity.refused];
    throw new ApiError(401, refusal.code, refusal.message(access), undefined, { "www-authenticate": challenges[access] });
  }
  const { caller } = identity;
  if (!allowed[access].includes(caller.kind)) throw refusedCaller(access, caller);
  if (caller.kind === "admin" && changesState(request) && !sameOrigin(request)) {
    throw new ApiError(403, "CROSS_SITE_REQUEST", "a state-changing admin request must come from this site's own pages (or from a client that is not a browser)");
  }
  request.caller = caller;
}
