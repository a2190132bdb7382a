/** Who a request acts as: the operator (admin credentials, every tenant) or one tenant's API key. */
export type Caller = { kind: "admin" } | { kind: "tenant"; tenantId: string; keyId: string };

/** Who may call a route under /api: a tenant's key or the admin (the default), or the admin only. */
export type RouteAccess = "tenant" | "admin";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authentication hook on every /api request that gets past it. */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
