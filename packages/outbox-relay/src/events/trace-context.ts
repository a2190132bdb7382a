import { isSpanContextValid, SpanStatusCode, trace, type Span, type SpanContext } from "@opentelemetry/api";

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), written and read here rather than
 * through the globally registered propagator: the outbox row and the webhook header always carry
 * `traceparent`, whatever propagators an application registers (or none).
 */
export function traceparentOf(spanContext: SpanContext): string | null {
  if (!isSpanContextValid(spanContext)) return null;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The traceparent of the active span; null without one (always so when no OpenTelemetry SDK is registered). */
export function activeTraceparent(): string | null {
  const span = trace.getActiveSpan();
  return span ? traceparentOf(span.spanContext()) : null;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const invalidTraceId = "0".repeat(32);
const invalidSpanId = "0".repeat(16);

/** The remote span context a traceparent names; undefined when it is absent or malformed. */
export function parseTraceparent(traceparent: string | null | undefined): SpanContext | undefined {
  const match = traceparent ? traceparentPattern.exec(traceparent.trim()) : null;
  // Version ff is invalid; version 00 has exactly four fields (later versions may add more).
  if (!match || match[1] === "ff" || (match[1] === "00" && match[5] !== undefined)) return undefined;
  const [, , traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (traceId === invalidTraceId || spanId === invalidSpanId) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

/** Marks a span failed with the error that failed its work. */
export function failSpan(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : String(error);
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof exception === "string" ? exception : exception.message });
}
