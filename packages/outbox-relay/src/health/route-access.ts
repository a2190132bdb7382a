/**
 * Who may call a route, declared in its options (`config: { access }`); the API's access hook
 * enforces it from the route the router matched:
 * - `public`: anyone (liveness, readiness, the API documentation);
 * - `tenant`: a tenant's API key, or the admin credentials (acting for every tenant);
 * - `admin`: the admin credentials only (HTTP basic);
 * - `metrics`: the admin credentials, or `Authorization: Bearer <METRICS_TOKEN>` (a scraper's token);
 * - `portal`: a tenant's webhook portal session (outbox-relay/fastify's portalPlugin checks the
 *   session cookie a portal link is exchanged for; an Authorization header counts for nothing there).
 */
export const routeAccesses = ["public", "tenant", "admin", "metrics", "portal"] as const;
export type RouteAccess = (typeof routeAccesses)[number];

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
