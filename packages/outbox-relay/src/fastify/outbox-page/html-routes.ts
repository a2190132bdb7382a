import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { batchesOf, queueOf } from "../../queues/index.ts";
import { readEventState } from "../../stats/index.ts";
import type { AdminContext } from "../context.ts";
import { refusalOf } from "../errors.ts";
import type { Html } from "./html.ts";
import { causedPageSize } from "./json-routes.ts";
import { eventPath, heldPath, outboxPath, pageHeaders, replayPath } from "./layout.ts";
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

/**
 * The outbox page, server-rendered: events, one event, held aggregates, replay. Retry, skip and
 * replay are forms that call the operations the admin API and the CLI call (`outbox-relay/admin`),
 * then redirect (303) back or show why they were refused.
 */
export async function outboxHtmlRoutes(parent: FastifyInstance, { db, queues, admin }: AdminContext): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { catalog } = queues;
  const replayFields = replayForm(catalog.types);
  const schema = { hide: true };

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook("preValidation", async (request) => {
    request.query = withoutEmpty(request.query);
    request.body = withoutEmpty(request.body);
  });
  // Every refusal as a page, the authenticate hook's included (its challenge headers are on the reply already).
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, "outbox page failed");
    const text = status === 500 ? "internal server error" : error.message;
    return send(reply, problemView(status === 401 ? "Admin credentials needed" : "Refused", text), status);
  });

  async function renderEvent(reply: FastifyReply, id: string, message?: Banner, status = 200) {
    const event = await readEventState(db, id);
    if (!event) return send(reply, problemView("Not found", `no event with id ${id}`), 404);
    const [holder, caused, jobId] = await Promise.all([
      holderOf(db, id),
      listEvents(db, { causedBy: id }, { limit: causedPageSize }),
      jobOf(event),
    ]);
    return send(reply, eventView(catalog, event, caused, holder, jobId, message), status);
  }

  /** Its job in Redis: the batch job it travels in, while that job is there; else its own (id = event id). */
  async function jobOf(event: { id: string; type: string }): Promise<string> {
    const queue = queues[queueOf(catalog, event.type)];
    try {
      const [batch] = await batchesOf(queues.connection, queue, [event.id]);
      return batch && (await queue.getJobState(batch)) !== "unknown" ? batch : event.id;
    } catch {
      return event.id;
    }
  }

  async function renderHeld(reply: FastifyReply, limit: number, message?: Banner, status = 200) {
    return send(reply, heldView(await heldAggregates(db, limit), limit, message), status);
  }

  app.get(outboxPath, { schema: { ...schema, querystring: listQuery } }, async (request, reply) => {
    const { before, limit, ...filters } = request.query;
    return send(reply, listView(catalog, filters, await listEvents(db, filters, { before, limit }), limit));
  });

  app.get(`${outboxPath}/events/:id`, { schema: { ...schema, params: idParams, querystring: eventNotice } }, async (request, reply) => {
    const { notice } = request.query;
    return renderEvent(reply, request.params.id, notice ? { kind: "notice", text: notices[notice] } : undefined);
  });

  app.get(heldPath, { schema: { ...schema, querystring: heldQuery.extend(eventNotice.shape) } }, async (request, reply) => {
    const { notice, limit } = request.query;
    return renderHeld(reply, limit, notice ? { kind: "notice", text: notices[notice] } : undefined);
  });

  for (const [action, operation, notice] of [
    ["retry", admin.retryDead, "retried"],
    ["skip", admin.skipDead, "skipped"],
  ] as const) {
    app.post(`${outboxPath}/events/:id/${action}`, { schema: { ...schema, params: idParams, body: actionForm } }, async (request, reply) => {
      const { id } = request.params;
      const { back } = request.body;
      try {
        await operation(id);
      } catch (error) {
        const refused = refusalOf(error);
        if (!refused) throw error;
        const message: Banner = { kind: "problem", text: refused.message };
        return back === "held" ? renderHeld(reply, heldQuery.parse({}).limit, message, refused.statusCode) : renderEvent(reply, id, message, refused.statusCode);
      }
      return reply.redirect(back === "held" ? `${heldPath}?notice=${notice}` : `${eventPath(id)}?notice=${notice}`, 303);
    });
  }

  app.get(replayPath, { schema: { ...schema, querystring: replayFields.partial() } }, async (request, reply) => send(reply, replayView(catalog, request.query)));

  app.post(replayPath, { schema: { ...schema, body: replayFields } }, async (request, reply) => {
    const form = request.body;
    try {
      const result = await admin.replay({ type: form.type, since: new Date(form.since), ...(form.until ? { until: new Date(form.until) } : {}) });
      return send(reply, replayView(catalog, form, result));
    } catch (error) {
      const refused = refusalOf(error);
      if (!refused) throw error;
      return send(reply, replayView(catalog, form, undefined, { kind: "problem", text: refused.message }), refused.statusCode);
    }
  });
}
