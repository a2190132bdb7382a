import { describe, expect, it } from "vitest";
import { describeWebhookTypes, webhookTypeNames } from "outbox-relay/webhooks";
import { webhookData, webhookTypeDefinitions, webhookTypes } from "../src/index.ts";

describe("the shop's webhook types as tenants see them", () => {
  it("defines every webhook type the handlers send, each example parsing with its schema unchanged", () => {
    expect(Object.keys(webhookTypeDefinitions)).toEqual([...webhookTypes]);
    for (const type of webhookTypes) {
      const { schema, example, description } = webhookTypeDefinitions[type];
      expect(schema).toBe(webhookData[type]);
      expect(description.length, type).toBeGreaterThan(10);
      expect(schema.parse(example), type).toEqual(example);
    }
  });

  it("describes each as JSON Schema, with the engine's endpoint.disabled last", () => {
    const described = describeWebhookTypes(webhookTypeDefinitions);
    expect(described.map((entry) => entry.type)).toEqual([...webhookTypes, "endpoint.disabled"]);
    expect(webhookTypeNames(webhookTypeDefinitions)).toEqual([...webhookTypes, "endpoint.disabled"]);
    expect(described.find((entry) => entry.type === "payment.failed")?.schema).toMatchObject({ properties: { status: { const: "failed" } } });
  });

  it("refuses data with a wrong field: a payment.completed that says failed, money that is not whole cents", () => {
    const example = webhookTypeDefinitions["payment.completed"].example as object;
    expect(webhookData["payment.completed"].safeParse({ ...example, status: "failed" }).success).toBe(false);
    expect(webhookData["payment.completed"].safeParse({ ...example, amount: 12.5 }).success).toBe(false);
  });
});
