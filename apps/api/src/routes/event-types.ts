import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { webhookTypeDefinitions } from "@outbox/domain";
import { describeWebhookTypes } from "outbox-relay/webhooks";
import { answers, apiRefusals } from "../responses.ts";
import { subscribableTypes } from "./webhook-schemas.ts";

const eventTypeList = z
  .object({
    eventTypes: z.array(
      z.object({
        type: z.enum(subscribableTypes).meta({ description: "the name an endpoint subscribes to (`events`) and the body's `type`" }),
        description: z.string(),
        schema: z.record(z.string(), z.unknown()).meta({ description: "the JSON Schema (draft 2020-12) of the body's `data`; objects are open: ignore fields you do not know" }),
        example: z.unknown().meta({ description: "an example `data`, valid against `schema`" }),
      }),
    ),
  })
  .meta({ description: "Every webhook type an endpoint may subscribe to" });

/**
 * The event catalog for tenants: each webhook type an endpoint may subscribe to (the shop's and
 * outbox-relay's `endpoint.disabled`), with the JSON Schema of the `data` it carries and an
 * example. The same for every tenant; built once, at registration (a wrong catalog fails start-up).
 */
export const eventTypeRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const eventTypes = describeWebhookTypes(webhookTypeDefinitions);
  app.get(
    "/api/event-types",
    {
      config: { access: "tenant" },
      schema: {
        summary: "List the webhook event types",
        description:
          "Each type a webhook endpoint may subscribe to, with the JSON Schema of the `data` its deliveries carry (`{type, timestamp, data}`) and an example. Any API key or the admin credentials read it.",
        response: answers({ 200: eventTypeList }, apiRefusals),
      },
    },
    async () => ({ eventTypes }),
  );
  done();
};
