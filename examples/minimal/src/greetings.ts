import { defineEvents, defineHandlers, sql } from "outbox-relay";
import { z } from "zod";

export const events = defineEvents({
  GreetingRequested: {
    schema: z.object({ greetingId: z.uuid(), name: z.string() }),
    aggregate: (payload) => ({ type: "greeting", id: payload.greetingId }),
    priority: 1,
  },
});

export const handlers = defineHandlers(events, {
  // Runs in the transaction that marks the event processed: the update happens once.
  GreetingRequested: async ({ tx, event }) => {
    await tx.execute(sql`UPDATE greetings SET greeted_at = now() WHERE id = ${event.payload.greetingId}::uuid`);
  },
});
