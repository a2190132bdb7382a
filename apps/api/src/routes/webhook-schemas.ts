import { z } from "zod";
import { errorBody, timestamp } from "../responses.ts";
import { pageLimit } from "../schemas.ts";
import { allEvents, decodeAttemptCursor, maxAttemptPageSize, urlIssues, webhookTypeNames } from "outbox-relay/webhooks";
import { webhookTypeDefinitions } from "@outbox/domain";

/**
 * The webhook routes' zod schemas: they validate each request part (fastify-type-provider-zod)
 * and describe it and the answers in the OpenAPI document. Ids are plain strings: one that is not
 * a UUID names nothing and answers 404, as an unknown one does.
 */

const uuid = z.string().meta({ format: "uuid" });

export const tenantParams = z.object({ id: z.string().meta({ description: "the tenant's id" }) });
export const endpointParams = tenantParams.extend({ endpointId: z.string().meta({ description: "the webhook endpoint's id" }) });

/** What an endpoint may subscribe to: the shop's webhook types and outbox-relay's own notifications (`endpoint.disabled`). */
export const subscribableTypes = webhookTypeNames(webhookTypeDefinitions);

const eventsMessage = `must be a non-empty array of event types (${subscribableTypes.join(", ")}) or "${allEvents}"`;

/** `{url, events}`, with the URL checks of registration (https, no credentials, no private address unless allowed). */
export function endpointBody(allowPrivateNetworks: boolean) {
  return z.object({
    url: z
      .string({ error: "is required and must be a string" })
      .superRefine((url, ctx) => {
        for (const issue of urlIssues(url, allowPrivateNetworks)) ctx.addIssue({ code: "custom", message: issue.message });
      })
      .meta({ description: "where to POST: https (http only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)", format: "uri" }),
    events: z
      .array(z.enum([...subscribableTypes, allEvents], { error: `must be one of ${subscribableTypes.join(", ")} or "${allEvents}"` }), { error: eventsMessage })
      .min(1, eventsMessage)
      .meta({ description: `the webhook types to receive (GET /api/event-types describes each), or ["${allEvents}"] for all` }),
  });
}

export const disableBody = z
  .object({ reason: z.string().optional().meta({ description: "shown as disabledReason (at most 500 characters kept)" }) })
  .nullish();

export const resendBody = z.object({
  eventId: z.string({ error: "is required and must be a string" }).meta({
    description: "the message to send again: an attempt's eventId or webhookId (the `webhook-id` the receiver got)",
    format: "uuid",
  }),
});

export const attemptsQuery = z.object({
  limit: pageLimit(maxAttemptPageSize, 50),
  before: z
    .string()
    .refine((cursor) => decodeAttemptCursor(cursor) !== null, "must be a nextBefore value from an earlier page")
    .optional()
    .meta({ description: "the previous page's nextBefore: attempts older than its last one" }),
});

export const endpointView = z
  .object({
    id: uuid,
    tenantId: uuid,
    url: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    previousSecretExpiresAt: timestamp.nullable().meta({ description: "until then, the previous secret signs beside the current one" }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: "A webhook endpoint (never its secrets)" });

export const endpointWithSecret = endpointView.extend({
  secret: z.string().meta({ description: "the whsec_ signing secret, shown only in this answer" }),
});

export const endpointList = z.object({ endpoints: z.array(endpointView) });

export const attemptView = z.object({
  id: uuid,
  eventId: uuid.meta({ description: "the WebhookDelivery event that made the attempt" }),
  webhookId: uuid.meta({ description: "the webhook-id header sent (a resend keeps the original message's)" }),
  attempt: z.number().int().meta({ description: "the attempt's number within its delivery, from 1" }),
  statusCode: z.number().int().nullable().meta({ description: "null when no answer came (timeout, connection error, refused address)" }),
  durationMs: z.number().int(),
  error: z.string().nullable(),
  responseBody: z.string().nullable().meta({ description: "the first 4 KiB of the answer" }),
  createdAt: timestamp,
});

export const attemptPage = z.object({
  attempts: z.array(attemptView).meta({ description: "newest first" }),
  nextBefore: z.string().nullable().meta({ description: "pass as `before` for the next, older page; null on the last page" }),
});

export const resent = z.object({
  eventId: uuid.meta({ description: "the new WebhookDelivery event (GET /api/events/:id; its attempts carry this eventId)" }),
  webhookId: uuid.meta({ description: "the webhook-id the receiver gets: the original message's" }),
  endpointId: uuid,
});

export const deleted = z.object({
  id: uuid,
  skippedDeliveries: z.number().int().meta({ description: "deliveries to this endpoint not yet sent (pending, between retries, or dead), now skipped" }),
});


export { errorBody };
