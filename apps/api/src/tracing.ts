import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { failSpan, parseTraceparent } from "outbox-relay";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's SERVER span (null when an HTTP instrumentation made one already). */
    span: Span | null;
  }
}

const tracer = trace.getTracer("@outbox/api");

/**
 * Each request runs in a SERVER span that continues an incoming W3C `traceparent`, and the route
 * handler runs with it active, so `publish` inside the route stores it with the outbox rows. When
 * an HTTP instrumentation (an SDK's auto-instrumentation) has already started a span for the
 * request, the request runs in that one instead. With no SDK registered every span is the no-op
 * tracer's and nothing is recorded; an incoming traceparent still reaches the outbox rows.
 *
 * Registered before every other hook: the span is active through all of them (the rest of the
 * request runs from `done`, and Fastify parses the body in the async scope it was called from).
 */
export function registerTracing(app: FastifyInstance): void {
  app.decorateRequest("span", null);
  app.addHook("onRequest", (request, _reply, done) => {
    if (trace.getActiveSpan()) return done();
    const span = startServerSpan(request);
    request.span = span;
    if (isSpanContextValid(span.spanContext())) context.with(trace.setSpan(context.active(), span), done);
    else done();
  });
  app.addHook("onError", (request, _reply, error, done) => {
    if (request.span && (error.statusCode ?? 500) >= 500) failSpan(request.span, error);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    endServerSpan(request, reply.statusCode);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    endServerSpan(request, null);
    done();
  });
}

function startServerSpan(request: FastifyRequest): Span {
  const remote = parseTraceparent(headerValue(request.headers.traceparent));
  const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
  const route = request.routeOptions.url;
  const span = tracer.startSpan(route ? `${request.method} ${route}` : request.method, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes({ "http.request.method": request.method, "url.path": request.url.split("?")[0], "url.scheme": request.protocol });
    if (route) span.setAttribute("http.route", route);
  }
  return span;
}

/** Ends the request's span once, with the answer's status (null: the client went away first). */
function endServerSpan(request: FastifyRequest, statusCode: number | null): void {
  const span = request.span;
  if (!span) return;
  request.span = null;
  if (statusCode === null) span.setStatus({ code: SpanStatusCode.ERROR, message: "the client closed the request" });
  else {
    span.setAttribute("http.response.status_code", statusCode);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function headerValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}
