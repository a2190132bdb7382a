import { defineEvents, definePrismaHandlers } from "outbox-relay";
import { z } from "zod";
import type { PrismaClient } from "./generated/prisma/client.ts";

export const events = defineEvents({
  TicketOpened: {
    schema: z.object({ ticketId: z.uuid(), title: z.string() }),
    aggregate: (payload) => ({ type: "ticket", id: payload.ticketId }),
    priority: 1,
  },
});

export const handlers = definePrismaHandlers<PrismaClient>()(events, {
  // Runs in the worker's Prisma transaction that marks the event processed: the update happens once.
  TicketOpened: async ({ tx, event }) => {
    const { ticketId, title } = event.payload;
    const priority = /down|outage|urgent/i.test(title) ? "high" : "normal";
    await tx.ticket.update({ where: { id: ticketId }, data: { status: "triaged", priority, triagedAt: new Date() } });
  },
});
