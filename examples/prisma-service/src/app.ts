import { randomUUID, timingSafeEqual } from "node:crypto";
import Fastify from "fastify";
import { outboxAdminPlugin } from "outbox-relay/fastify";
import { z } from "zod";
import type { PrismaClient } from "./generated/prisma/client.ts";
import { events } from "./tickets.ts";

export interface AppOptions {
  prisma: PrismaClient;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** The bearer token of the admin routes. */
  adminToken: string;
}

const newTicket = z.object({ title: z.string().min(1).max(200) });

export async function buildApp({ prisma, databaseUrl, redisUrl, queuePrefix, adminToken }: AppOptions) {
  const app = Fastify();

  // The ticket and its event commit together, or neither does.
  app.post("/tickets", async (request, reply) => {
    const body = newTicket.safeParse(request.body);
    if (!body.success) return reply.status(400).send({ error: z.prettifyError(body.error) });
    const ticket = await prisma.$transaction(async (tx) => {
      const created = await tx.ticket.create({ data: { id: randomUUID(), title: body.data.title } });
      await events.publish(tx, { type: "TicketOpened", payload: { ticketId: created.id, title: created.title } });
      return created;
    });
    return reply.status(201).send(ticket);
  });

  app.get<{ Params: { id: string } }>("/tickets/:id", async (request, reply) => {
    const { id } = request.params;
    const ticket = z.uuid().safeParse(id).success ? await prisma.ticket.findUnique({ where: { id } }) : null;
    return ticket ?? reply.status(404).send({ error: "no such ticket" });
  });

  // The outbox page, the admin API and Bull Board under /admin, for the holder of the token only.
  await app.register(outboxAdminPlugin, {
    catalog: events,
    database: databaseUrl,
    redis: redisUrl,
    queuePrefix,
    authenticate: async (request, reply) => {
      if (!sameSecret(request.headers.authorization ?? "", `Bearer ${adminToken}`)) return reply.status(401).send({ error: "admins only", code: "UNAUTHORIZED" });
    },
  });
  return app;
}

/** Compares in constant time, so that the answer's timing tells nothing of the token. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
