import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { replayResult } from "outbox-relay/admin";
import { DeadLetterError, ReleaseNotQueuedError, retryDead, skipDead } from "outbox-relay/dead-letter";
import { orderEvents } from "@outbox/domain";
import { replayProcessed, ReplayRefusedError } from "outbox-relay/outbox";
import { readEventState } from "outbox-relay/stats";
import { ApiError } from "../errors.ts";
import type { Html } from "./html.ts";
import { causedPageSize } from "./json-routes.ts";
import { eventPath, heldPath, outboxPath, pageHeaders, replayPath } from "./layout.ts";
import type { OutboxPageOptions } from "./options.ts";
import { heldAggregates, holderOf, listEvents } from "./queries.ts";
import { actionForm, eventNotice, heldQuery, idParams, listQuery, replayForm } from "./schemas.ts";
import { eventView, heldView, listView, problemView, replayView, type Banner } from "./views.ts";

const notices = {
  retried: "Retried: the row is pending again, its attempts reset, and its job is queued.",
  skipped: "Skipped: the row is skipped for good, and the next event of its aggregate is released.",
} as const;

const send = (reply: FastifyReply, page: Html, status = 200) => reply.status(status).headers(pageHeaders).send(page.text);

/** Drops empty strings (a form's empty fields) from a query or body, so an empty filter means no filter. */
function withoutEmpty(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== ""));
}

/** The status and message of a refused dead-letter operation, as the admin API answers it. */
function refusal(error: unknown): { status: number; text: string } | undefined {
  if (error instanceof ReleaseNotQueuedError) return { status: 503, text: error.message };
  if (error instanceof DeadLetterError) return { status: error.code === "EVENT_NOT_FOUND" ? 404 : 409, text: error.message };
  if (error instanceof ReplayRefusedError) return { status: 409, text: error.message };
  return undefined;
}

/**
 * The outbox page, server-rendered: events, one event, held aggregates, replay. Retry, skip and
 * replay are forms that call the operations the admin API and the CLI call (@outbox/dead-letter,
 * @outbox/outbox), then redirect (303) back or show why they were refused.
 */
export async function outboxHtmlRoutes(parent: FastifyInstance, { config, db, queues }: OutboxPageOptions): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const release = { retryBackoffMs: config.RETRY_BACKOFF_MS };
  const schema = { hide: true };

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook("preValidation", async (request) => {
    request.query = withoutEmpty(request.query);
    request.body = withoutEmpty(request.body);
  });
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, "outbox page failed");
    const text = status === 500 ? "internal server error" : error.message;
    if (error instanceof ApiError && error.headers) void reply.headers(error.headers);
    return send(reply, problemView(status === 401 ? "Admin credentials needed" : "Refused", text), status);
  });

  async function renderEvent(reply: FastifyReply, id: string, message?: Banner, status = 200) {
    const event = await readEventState(db, id, orderEvents.unorderedTypes);
    if (!event) return send(reply, problemView("Not found", `no event with id ${id}`), 404);
    const [holder, caused] = await Promise.all([holderOf(db, id), listEvents(db, { causedBy: id }, { limit: causedPageSize })]);
    return send(reply, eventView(event, caused, holder, message), status);
  }

  async function renderHeld(reply: FastifyReply, limit: number, message?: Banner, status = 200) {
    return send(reply, heldView(await heldAggregates(db, limit), limit, message), status);
  }

  app.get(outboxPath, { config: { access: "admin" }, schema: { ...schema, querystring: listQuery } }, async (request, reply) => {
    const { before, limit, ...filters } = request.query;
    return send(reply, listView(filters, await listEvents(db, filters, { before, limit }), limit));
  });

  app.get(`${outboxPath}/events/:id`, { config: { access: "admin" }, schema: { ...schema, params: idParams, querystring: eventNotice } }, async (request, reply) => {
    const { notice } = request.query;
    return renderEvent(reply, request.params.id, notice ? { kind: "notice", text: notices[notice] } : undefined);
  });

  app.get(heldPath, { config: { access: "admin" }, schema: { ...schema, querystring: heldQuery.extend(eventNotice.shape) } }, async (request, reply) => {
    const { notice, limit } = request.query;
    return renderHeld(reply, limit, notice ? { kind: "notice", text: notices[notice] } : undefined);
  });

  for (const [action, operation, notice] of [
    ["retry", retryDead, "retried"],
    ["skip", skipDead, "skipped"],
  ] as const) {
    app.post(`${outboxPath}/events/:id/${action}`, { config: { access: "admin" }, schema: { ...schema, params: idParams, body: actionForm } }, async (request, reply) => {
      const { id } = request.params;
      const { back } = request.body;
      try {
        await operation(db, queues, id, release);
      } catch (error) {
        const refused = refusal(error);
        if (!refused) throw error;
        const message: Banner = { kind: "problem", text: refused.text };
        return back === "held" ? renderHeld(reply, heldQuery.parse({}).limit, message, refused.status) : renderEvent(reply, id, message, refused.status);
      }
      return reply.redirect(back === "held" ? `${heldPath}?notice=${notice}` : `${eventPath(id)}?notice=${notice}`, 303);
    });
  }

  app.get(replayPath, { config: { access: "admin" }, schema: { ...schema, querystring: replayForm.partial() } }, async (request, reply) => send(reply, replayView(request.query)));

  app.post(replayPath, { config: { access: "admin" }, schema: { ...schema, body: replayForm } }, async (request, reply) => {
    const form = request.body;
    try {
      const since = new Date(form.since);
      const { until, replayed } = await replayProcessed(db, { catalog: orderEvents, type: form.type, since, ...(form.until ? { until: new Date(form.until) } : {}) });
      return send(reply, replayView(form, replayResult(form.type, since, until, replayed)));
    } catch (error) {
      const refused = refusal(error);
      if (!refused) throw error;
      return send(reply, replayView(form, undefined, { kind: "problem", text: refused.text }), refused.status);
    }
  });
}
