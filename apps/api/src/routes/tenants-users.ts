import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { Prisma, type PrismaClient } from "@outbox/db";
import { requireBodyTenant } from "../auth/access.ts";
import { newApiKey } from "../auth/api-key-format.ts";
import { conflict, notFound } from "../errors.ts";
import { answers, apiRefusals, bodyRefusals, tenantCreated, userCreated } from "../responses.ts";
import { createTenantBody, createUserBody } from "../schemas.ts";
import { isUuid } from "../validation.ts";
import { orderEvents } from "@outbox/domain";

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

export const tenantAndUserRoutes: FastifyPluginCallbackZod<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  /**
   * The admin makes a tenant (HTTP basic only). Its first API key is in the 201 answer, once: only
   * the key's SHA-256 is stored. The tenant, its key and TenantCreated commit together.
   */
  const createTenant = {
    summary: "Create a tenant (admin)",
    description: "Needs the admin credentials (HTTP basic). The answer carries the tenant's first API key, once: only its hash is stored.",
    body: createTenantBody,
    response: answers({ 201: tenantCreated }, [...bodyRefusals, 403, 409, ...apiRefusals]),
  };
  app.post("/api/tenants", { config: { access: "admin" }, schema: createTenant }, async (request, reply) => {
    const body = request.body;
    const key = newApiKey();
    try {
      const result = await prisma.$transaction(async (tx) => {
        const tenant = await tx.tenant.create({ data: { name: body.name, slug: body.slug } });
        await tx.apiKey.create({ data: { id: key.id, tenantId: tenant.id, name: "first key", prefix: key.prefix, keyHash: key.hash } });
        const eventId = await orderEvents.publish(tx, {
          type: "TenantCreated",
          payload: { tenantId: tenant.id, name: tenant.name, slug: tenant.slug, createdAt: tenant.createdAt.toISOString() },
        });
        return { id: tenant.id, name: tenant.name, slug: tenant.slug, createdAt: tenant.createdAt, eventId, apiKeyId: key.id, apiKey: key.secret };
      });
      return await reply.status(201).send(result);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("TENANT_SLUG_TAKEN", `a tenant with slug ${body.slug} already exists`);
      throw error;
    }
  });

  const createUser = {
    summary: "Create a user",
    description: "The user and UserCreated in one transaction; UserCreated makes its profile and sends the welcome email.",
    body: createUserBody,
    response: answers({ 201: userCreated }, [...bodyRefusals, 403, 404, 409, ...apiRefusals]),
  };
  app.post("/api/users", { config: { access: "tenant" }, schema: createUser }, async (request, reply) => {
    const body = request.body;
    requireBodyTenant(request, body.tenantId);
    try {
      const result = await prisma.$transaction(async (tx) => {
        const tenant = isUuid(body.tenantId) ? await tx.tenant.findUnique({ where: { id: body.tenantId }, select: { id: true } }) : null;
        if (!tenant) throw notFound("tenant", body.tenantId);
        const user = await tx.user.create({ data: { tenantId: tenant.id, email: body.email, role: body.role } });
        const eventId = await orderEvents.publish(tx, {
          type: "UserCreated",
          payload: { userId: user.id, tenantId: tenant.id, email: user.email, role: body.role, createdAt: user.createdAt.toISOString() },
        });
        return { id: user.id, tenantId: user.tenantId, email: user.email, role: user.role, createdAt: user.createdAt, eventId };
      });
      return await reply.status(201).send(result);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("USER_EMAIL_TAKEN", `a user with email ${body.email} already exists in tenant ${body.tenantId}`);
      throw error;
    }
  });
  done();
};
