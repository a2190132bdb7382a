import { z } from "zod";
import { errorBody, timestamp } from "../responses.ts";
import { pageLimit } from "../schemas.ts";
import { allEvents, decodeAttemptCursor, maxAttemptPageSize, maxResendAll, retryScheduleProblem, urlIssues, webhookTypeNames } from "outbox-relay/webhooks";
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
    retrySchedule: retrySchedule.optional(),
  });
}

/** An endpoint's own retry schedule, within the limits; null: the service's (WEBHOOK_RETRY_SCHEDULE). */
const retrySchedule = z
  .string({ error: "must be a string of waits such as 0,1m,10m,1h,6h, or null" })
  .superRefine((value, ctx) => {
    const problem = retryScheduleProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .nullable()
  .meta({
    description: "one wait per attempt (at most 10, each at most 24h, units ms, s, m, h, d), each from the end of the attempt before; null: the service's schedule",
    example: "0,1m,10m,1h,6h",
  });

export const endpointChanges = z.object({ retrySchedule });

export const resendAllBody = z.object({
  since: z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" }).meta({ description: "deliveries created at or after this time" }),
  onlyFailed: z.boolean().default(true).meta({ description: "only the deliveries that failed for good (default); false: every delivered or failed one" }),
  dryRun: z.boolean().default(false).meta({ description: "count only; queue nothing" }),
});

export const resentAll = z.object({
  matched: z.number().int().meta({ description: "deliveries that match" }),
  queued: z.number().int().meta({ description: `resends queued (0 on a dry run); at most ${maxResendAll} per call` }),
});

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
    consecutiveFailures: z.number().int().meta({ description: "failed attempts in a row; a success resets it" }),
    retrySchedule: z.string().nullable().meta({ description: "the endpoint's own retry schedule; null: the service's" }),
    disabledAt: timestamp.nullable(),
    failingSince: timestamp.nullable().meta({ description: "the first failed attempt since the last success; failing for WEBHOOK_DISABLE_AFTER_MS disables the endpoint" }),
    previousSecretExpiresAt: timestamp.nullable().meta({ description: "until then, the previous secret signs beside the current one" }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: "A webhook endpoint (never its secrets)" });

export const endpointWithSecret = endpointView.extend({
  secret: z.string().meta({ description: "the whsec_ signing secret, shown only in this answer" }),
});

export const endpointList = z.object({ endpoints: z.array(endpointView) });

const nullableMs = z.number().int().nullable();

export const endpointWithHealth = endpointView.extend({
  health: z.object({
    breaker: z.object({
      state: z.enum(["closed", "open", "half-open"]).meta({ description: "open: nothing is sent until openUntil; half-open: the next delivery is a probe" }),
      openUntil: timestamp.nullable(),
    }),
    consecutiveFailures: z.number().int(),
    failingSince: timestamp.nullable(),
    lastSuccessAt: timestamp.nullable().meta({ description: "to the second" }),
    lastFailureAt: timestamp.nullable(),
    recent: z
      .object({
        since: timestamp,
        attempts: z.number().int(),
        succeeded: z.number().int(),
        successRate: z.number().nullable().meta({ description: "succeeded / attempts; null without attempts" }),
        latencyP50Ms: nullableMs,
        latencyP99Ms: nullableMs,
      })
      .meta({ description: "the last 24 hours' attempts (at most the latest 10,000)" }),
  }),
});

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
