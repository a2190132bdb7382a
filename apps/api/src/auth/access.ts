import type { FastifyRequest } from "fastify";
import { ApiError, notFound } from "../errors.ts";
import type { Caller } from "./caller.ts";

function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`no caller on ${request.method} ${request.url}: the authentication hook did not run`);
  return request.caller;
}

/** The tenant a request may act for; undefined for the admin, who acts for every tenant. */
export function tenantScope(request: FastifyRequest): string | undefined {
  const caller = callerOf(request);
  return caller.kind === "tenant" ? caller.tenantId : undefined;
}

const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A body's `tenantId` must be the key's tenant: 403 otherwise (before anything is read or written). */
export function requireBodyTenant(request: FastifyRequest, tenantId: string): void {
  const scope = tenantScope(request);
  if (scope !== undefined && !sameId(scope, tenantId)) {
    throw new ApiError(403, "TENANT_FORBIDDEN", `this API key belongs to another tenant than ${tenantId}`, [{ path: "tenantId", message: "is not the tenant of this API key" }]);
  }
}

/** A tenant named in the path must be the key's tenant: another tenant's answers 404, as if it did not exist. */
export function requirePathTenant(request: FastifyRequest, tenantId: string): void {
  const scope = tenantScope(request);
  if (scope !== undefined && !sameId(scope, tenantId)) throw notFound("tenant", tenantId);
}

/** Whether the caller may see a row of this tenant (null: a row of no tenant, the admin's only). */
export function mayRead(request: FastifyRequest, rowTenantId: string | null): boolean {
  const scope = tenantScope(request);
  return scope === undefined || (rowTenantId !== null && sameId(scope, rowTenantId));
}
