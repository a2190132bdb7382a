import type { FastifyPluginCallback } from "fastify";
import type { Product, PrismaClient } from "@outbox/db";
import { moneyFrom } from "@outbox/domain";
import { publish } from "@outbox/outbox";
import { requireBodyTenant, tenantScope } from "../auth/access.ts";
import { ApiError, notFound } from "../errors.ts";
import { createProductBody, idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

function productView(product: Product): Record<string, unknown> {
  const { id, tenantId, sellerId, categoryId, name, price, stock, createdAt, updatedAt } = product;
  return { id, tenantId, sellerId, categoryId, name, price: moneyFrom(price), stock, createdAt, updatedAt };
}

export const productRoutes: FastifyPluginCallback<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  app.post("/api/products", async (request, reply) => {
    const body = parseRequest(createProductBody, request.body);
    requireBodyTenant(request, body.tenantId);
    const result = await prisma.$transaction(async (tx) => {
      const tenant = isUuid(body.tenantId) ? await tx.tenant.findUnique({ where: { id: body.tenantId }, select: { id: true } }) : null;
      if (!tenant) throw notFound("tenant", body.tenantId);
      const seller = await tx.user.findFirst({ where: { id: body.sellerId, tenantId: tenant.id }, select: { id: true } });
      if (!seller) {
        throw new ApiError(404, "SELLER_NOT_FOUND", `sellerId ${body.sellerId} is not a user of tenant ${tenant.id}`, [{ path: "sellerId", message: "is not a user of the tenant" }]);
      }
      const product = await tx.product.create({ data: { ...body, tenantId: tenant.id } });
      const eventId = await publish(tx, {
        type: "ProductCreated",
        payload: {
          productId: product.id,
          tenantId: tenant.id,
          name: product.name,
          sellerId: product.sellerId,
          categoryId: product.categoryId,
          price: moneyFrom(product.price),
          createdAt: product.createdAt.toISOString(),
        },
      });
      return { ...productView(product), eventId };
    });
    return reply.status(201).send(result);
  });

  app.get("/api/products/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const scope = tenantScope(request);
    const product = isUuid(id) ? await prisma.product.findFirst({ where: { id, ...(scope ? { tenantId: scope } : {}) } }) : null;
    if (!product) throw notFound("product", id);
    return productView(product);
  });
  done();
};
