import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, trace, type Context, type Link, type Span } from "@opentelemetry/api";
import { failSpan, parseTraceparent } from "../events/index.ts";
import type { HandledEvent } from "./handler.ts";
import type { EventJob } from "./outcome.ts";

const tracer = trace.getTracer("./index.ts");
const consumer = { kind: SpanKind.CONSUMER };

/** One event of a handler call: its job carries the traceparent of the span that published it. */
export interface TracedRun {
  job: EventJob;
  event: HandledEvent;
}

/**
 * Runs one event's handler call in a CONSUMER span `process <type>` whose parent is the span that
 * published the event, so the trace goes on from the producer; a new trace when none was stored.
 */
export function inEventSpan<T>(run: TracedRun, work: () => Promise<T>): Promise<T> {
  const producer = parseTraceparent(run.job.data.traceparent);
  const parent = producer ? trace.setSpanContext(ROOT_CONTEXT, producer) : ROOT_CONTEXT;
  const span = tracer.startSpan(`process ${run.event.type}`, consumer, parent);
  if (span.isRecording()) span.setAttributes(eventAttributes(run.event));
  return inSpan(span, parent, work);
}

/**
 * Runs a batch handler's call in one span. Its events came from many traces: the span starts a
 * trace of its own with a link to each event's producer span. A call of one event is that event's
 * span (inEventSpan).
 */
export function inBatchSpan<T>(runs: readonly TracedRun[], work: () => Promise<T>): Promise<T> {
  if (runs.length === 1) return inEventSpan(runs[0]!, work);
  const span = tracer.startSpan(`process ${runs[0]!.event.type}`, consumer, ROOT_CONTEXT);
  if (span.isRecording()) {
    span.setAttributes({ ...batchAttributes, "messaging.batch.message_count": runs.length, "outbox.event.type": runs[0]!.event.type });
    span.addLinks(runs.flatMap(producerLink));
  }
  return inSpan(span, ROOT_CONTEXT, work);
}

/**
 * Runs `work` with the span active and ends the span when it settles, failed with its error if
 * it throws. With no SDK registered the span is the no-op tracer's: when it carries no trace
 * either (no producer), `work` runs as it is, at no cost but that span.
 */
function inSpan<T>(span: Span, parent: Context, work: () => Promise<T>): Promise<T> {
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return work();
  return context.with(trace.setSpan(parent, span), work).then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      failSpan(span, error);
      span.end();
      throw error;
    },
  );
}

const batchAttributes = { "messaging.system": "outbox", "messaging.operation.type": "process", "messaging.operation.name": "process" };

function eventAttributes(event: HandledEvent) {
  return {
    ...batchAttributes,
    "messaging.message.id": event.id,
    "outbox.event.type": event.type,
    "outbox.aggregate.type": event.aggregateType,
    "outbox.aggregate.id": event.aggregateId,
    "outbox.event.attempt": event.attempt,
  };
}

function producerLink({ job, event }: TracedRun): Link[] {
  const producer = parseTraceparent(job.data.traceparent);
  return producer ? [{ context: producer, attributes: { "messaging.message.id": event.id, "outbox.event.attempt": event.attempt } }] : [];
}
