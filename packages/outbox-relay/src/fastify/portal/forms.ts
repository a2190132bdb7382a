import { z } from "zod";
import { maxAttemptPageSize } from "../../webhooks/index.ts";

/**
 * A form body (`application/x-www-form-urlencoded`) as an object: a field sent once is a string,
 * a field sent more than once (checkboxes of one name) an array of its values, in order.
 */
export function parseForm(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = fields[name];
    fields[name] = seen === undefined ? value : [seen].flat().concat(value);
  }
  return fields;
}

const uuid = z.uuid("must be a UUID");

/** A link's token: the rest is checked by its signature. */
export const openQuery = z.object({ token: z.string().max(200).optional() });

export const endpointParams = z.object({ endpointId: uuid });

/** Notices a redirect after an action shows on the page it lands on. */
export const notices = {
  disabled: "Disabled: no message is sent to this endpoint until you enable it.",
  enabled: "Enabled: messages are sent to this endpoint again, and its failure count starts from zero.",
  tested: "A test message is on its way: its attempt appears below within seconds (reload the page).",
  resent: "Sent again: a new delivery of the message, with the same webhook-id, appears below within seconds (reload the page).",
} as const;

export const pageQuery = z.object({
  notice: z.enum(Object.keys(notices) as [keyof typeof notices]).optional(),
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(maxAttemptPageSize).default(25),
});

/** The add form: a URL and the event types (checkboxes, or a comma-separated text field when any name may be subscribed). */
export const addForm = z.object({
  url: z.string().max(2048).default(""),
  events: z
    .union([z.string().max(2048), z.array(z.string().max(200)).max(200)])
    .default([])
    .transform((value) => [value].flat().flatMap((field) => field.split(",")).map((type) => type.trim()).filter((type) => type !== "")),
});

export const disableForm = z.object({ reason: z.string().max(500).optional() });

export const resendForm = z.object({ eventId: uuid });
