
export { routeAccesses, type RouteAccess } from "outbox-relay/fastify";

/** Who a request acts as: the operator (admin credentials, every tenant), one tenant's API key, or a metrics scraper. */
export type Caller = { kind: "admin" } | { kind: "tenant"; tenantId: string; keyId: string } | { kind: "metrics" };

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the access hook (route-access.ts) on every request to a route that is not public. */
    caller: Caller | null;
  }
}
