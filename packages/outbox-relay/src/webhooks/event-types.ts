import { z } from "zod";
import { endpointDisabledExample, endpointDisabledSchema, endpointDisabledType } from "./operational-events.ts";

/** One webhook type a tenant may subscribe to: what it tells, the zod schema of its `data`, an example `data`. */
export interface WebhookTypeDefinition<S extends z.ZodType = z.ZodType> {
  description: string;
  schema: S;
  example: z.output<S>;
}

export type WebhookTypeDefinitions = Record<string, WebhookTypeDefinition>;

/** One entry of the event catalog a service shows its tenants (e.g. `GET /api/event-types`). */
export interface WebhookTypeDescription {
  type: string;
  description: string;
  /** The JSON Schema (draft 2020-12) of the `data` the receiver gets. */
  schema: Record<string, unknown>;
  example: unknown;
}

/** The engine's own notifications, which every service's endpoints may subscribe to. */
export const operationalWebhookTypes = {
  [endpointDisabledType]: {
    description:
      "One of the tenant's endpoints was disabled (it answered 410 Gone, or kept failing): sent to the tenant's other endpoints that subscribe to it. " +
      "The endpoint's record shows the same reason (enabled: false, disabledReason).",
    schema: endpointDisabledSchema,
    example: endpointDisabledExample,
  },
} satisfies WebhookTypeDefinitions;

/** A service's types and the engine's, in that order; a service type may not take an engine type's name. */
function withOperationalTypes(definitions: WebhookTypeDefinitions): [string, WebhookTypeDefinition][] {
  const taken = Object.keys(definitions).filter((type) => type in operationalWebhookTypes);
  if (taken.length > 0) throw new TypeError(`webhook types ${taken.join(", ")} are outbox-relay's own notifications; name yours otherwise`);
  return [...Object.entries(definitions), ...Object.entries(operationalWebhookTypes)];
}

/** The types an endpoint may subscribe to: pass them as `EndpointSettings.eventTypes`. */
export function webhookTypeNames(definitions: WebhookTypeDefinitions): string[] {
  return withOperationalTypes(definitions).map(([type]) => type);
}

/**
 * The event catalog for tenants: each type (the service's, then the engine's `endpoint.disabled`)
 * with its description, the JSON Schema of its `data` and an example. The schema is zod's
 * `toJSONSchema` in input mode, which accepts what the zod schema's parse accepts: objects stay
 * open (no `additionalProperties: false`), so a field added to a type later does not break a
 * receiver that validates with it. Throws when an example does not parse with its own schema, or a
 * schema has no JSON Schema form (a transform, a custom check), so a wrong catalog fails at start-up.
 */
export function describeWebhookTypes(definitions: WebhookTypeDefinitions): WebhookTypeDescription[] {
  return withOperationalTypes(definitions).map(([type, { description, schema, example }]) => {
    const parsed = schema.safeParse(example);
    if (!parsed.success) throw new TypeError(`the example of webhook type ${type} does not match its schema: ${z.prettifyError(parsed.error)}`);
    return { type, description, schema: z.toJSONSchema(schema, { io: "input" }), example };
  });
}
