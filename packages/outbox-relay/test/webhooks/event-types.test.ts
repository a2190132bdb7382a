import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  describeWebhookTypes,
  endpointDisabledExample,
  endpointDisabledSchema,
  operationalWebhookTypes,
  webhookTypeNames,
  type WebhookTypeDefinitions,
} from "../../src/webhooks/index.ts";

const shipped = z.object({ parcelId: z.uuid(), carrier: z.enum(["dhl", "ups"]), weightGrams: z.number().int().min(1).optional() });
const definitions: WebhookTypeDefinitions = {
  "parcel.shipped": { description: "A parcel left the warehouse.", schema: shipped, example: { parcelId: "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11", carrier: "dhl" } },
};

describe("the event catalog a service shows its tenants", () => {
  it("lists the service's types, then the engine's endpoint.disabled, each with its JSON Schema and example", () => {
    const described = describeWebhookTypes(definitions);
    expect(described.map((entry) => entry.type)).toEqual(["parcel.shipped", "endpoint.disabled"]);
    const [parcel, disabled] = described;
    expect(parcel).toMatchObject({
      type: "parcel.shipped",
      description: "A parcel left the warehouse.",
      example: { parcelId: "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11", carrier: "dhl" },
      schema: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", required: ["parcelId", "carrier"] },
    });
    expect(parcel!.schema.properties).toMatchObject({
      carrier: { type: "string", enum: ["dhl", "ups"] },
      weightGrams: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    });
    // Open objects: a field added later must not fail a receiver that validates with the schema.
    expect(parcel!.schema).not.toHaveProperty("additionalProperties");
    expect(disabled).toMatchObject({ type: "endpoint.disabled", example: endpointDisabledExample, schema: { required: ["endpointId", "url", "reason", "disabledAt", "failingSince"] } });
  });

  it("every example it ships parses with its own zod schema", () => {
    for (const [type, { schema, example }] of Object.entries({ ...operationalWebhookTypes, ...definitions })) {
      expect(schema.safeParse(example).error?.issues ?? [], type).toEqual([]);
    }
    expect(endpointDisabledSchema.parse(endpointDisabledExample)).toEqual(endpointDisabledExample);
  });

  it("names the subscribable types, the engine's included", () => {
    expect(webhookTypeNames(definitions)).toEqual(["parcel.shipped", "endpoint.disabled"]);
    expect(webhookTypeNames({})).toEqual(["endpoint.disabled"]);
  });

  it("refuses an example that does not match its schema, naming the type and the field", () => {
    const wrong = { "parcel.shipped": { ...definitions["parcel.shipped"]!, example: { parcelId: "not-a-uuid", carrier: "dhl" } } };
    expect(() => describeWebhookTypes(wrong)).toThrow(/parcel\.shipped does not match its schema[\s\S]*parcelId/);
  });

  it("refuses a service type named like an engine notification, and a schema JSON Schema cannot express", () => {
    expect(() => webhookTypeNames({ "endpoint.disabled": definitions["parcel.shipped"]! })).toThrow(/endpoint\.disabled are outbox-relay's own/);
    const custom = { "odd.thing": { description: "x", schema: z.object({ at: z.custom<Date>((value) => value instanceof Date) }), example: { at: new Date() } } };
    expect(() => describeWebhookTypes(custom)).toThrow();
  });
});
