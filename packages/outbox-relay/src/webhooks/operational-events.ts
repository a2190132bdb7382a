import { z } from "zod";

/**
 * The notification a tenant's other endpoints receive when one of its endpoints is disabled
 * (410 Gone, or failing past `disableAfterMs`); the same reason is on the endpoint's record.
 * Subscribe to it like any type (`"endpoint.disabled"`, or `"*"`).
 */
export const endpointDisabledType = "endpoint.disabled" as const;

export const endpointDisabledSchema = z.object({
  endpointId: z.uuid(),
  url: z.string(),
  reason: z.string(),
  disabledAt: z.iso.datetime({ offset: true }),
  /** The start of the failures that disabled it; null for a 410 Gone. */
  failingSince: z.iso.datetime({ offset: true }).nullable(),
});

export type EndpointDisabledData = z.output<typeof endpointDisabledSchema>;

export const endpointDisabledExample: EndpointDisabledData = {
  endpointId: "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11",
  url: "https://hooks.example.com/orders",
  reason: "failing since 2026-12-01T08:00:00.000Z (5 days); disabled",
  disabledAt: "2026-12-06T08:00:12.000Z",
  failingSince: "2026-12-01T08:00:00.000Z",
};
