import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import type { Product, PrismaClient } from "@outbox/db";
import { moneyFrom, orderEvents } from "@outbox/domain";
import { requireBodyTenant, tenantScope } from "../auth/access.ts";
import { ApiError, notFound } from "../errors.ts";
import { answers, apiRefusals, bodyRefusals, productCreated, productView as productViewSchema } from "../responses.ts";
import { createProductBody, idParams } from "../schemas.ts";
import { isUuid } from "../validation.ts";

function productView(product: Product) {
  const { id, tenantId, sellerId, categoryId, name, price, stock, createdAt, updatedAt } = product;
  return { id, tenantId, sellerId, categoryId, name, price: moneyFrom(price), stock, createdAt, updatedAt };
}

export const productRoutes: FastifyPluginCallbackZod<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  const create = {
    summary: "Create a product",
    description: "The product and ProductCreated in one transaction; ProductCreated counts it in its category and sends webhooks `product.created`.",
    body: createProductBody,
    response: answers({ 201: productCreated }, [...bodyRefusals, 403, 404, ...apiRefusals]),
  };
  app.post("/api/products", { config: { access: "tenant" }, schema: create }, async (request, reply) => {
    const body = request.body;
    requireBodyTenant(request, body.tenantId);
    const result = await prisma.$transaction(async (tx) => {
      const tenant = isUuid(body.tenantId) ? await tx.tenant.findUnique({ where: { id: body.tenantId }, select: { id: true } }) : null;
      if (!tenant) throw notFound("tenant", body.tenantId);
      const seller = await tx.user.findFirst({ where: { id: body.sellerId, tenantId: tenant.id }, select: { id: true } });
      if (!seller) {
        throw new ApiError(404, "SELLER_NOT_FOUND", `sellerId ${body.sellerId} is not a user of tenant ${tenant.id}`, [{ path: "sellerId", message: "is not a user of the tenant" }]);
      }
      const product = await tx.product.create({ data: { ...body, tenantId: tenant.id } });
      const eventId = await orderEvents.publish(tx, {
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

  const read = { summary: "Read a product", params: idParams, response: answers({ 200: productViewSchema }, [400, 404, ...apiRefusals]) };
  app.get("/api/products/:id", { config: { access: "tenant" }, schema: read }, async (request) => {
    const { id } = request.params;
    const scope = tenantScope(request);
    const product = isUuid(id) ? await prisma.product.findFirst({ where: { id, ...(scope ? { tenantId: scope } : {}) } }) : null;
    if (!product) throw notFound("product", id);
    return productView(product);
  });
  done();
};
