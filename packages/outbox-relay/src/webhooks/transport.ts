import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import { failSpan, traceparentOf } from "../events/index.ts";
import { refusedRange } from "./address-guard.ts";
import { AddressRefusedError } from "./errors.ts";

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  /** Bytes of the response body kept; the rest is not read. */
  maxResponseBytes: number;
}

export interface PostResult {
  /** null when no response arrived (refused address, timeout, connection error). */
  statusCode: number | null;
  responseBody: string | null;
  durationMs: number;
  /** Set when no response arrived. */
  error: Error | null;
  /** The response's `Retry-After` header, as sent. */
  retryAfter: string | null;
}

/**
 * A DNS lookup that refuses the whole host when any address it resolves to is in a refused range.
 * Node connects to exactly the addresses this returns, so there is no gap for DNS rebinding
 * between the check and the connection.
 */
function guardedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      for (const { address } of addresses) {
        const range = refusedRange(address);
        if (range) return callback(new AddressRefusedError(host, address, range), "", 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Reads at most `limit` bytes of a response body, then stops reading. */
function readBounded(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(Buffer.concat(chunks).subarray(0, limit).toString("utf8").replaceAll("\u0000", ""));
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        response.destroy();
        done();
      }
    });
    response.on("end", done);
    response.on("error", done);
    response.on("close", done);
  });
}

const tracer = trace.getTracer("outbox-relay/webhooks");

/**
 * One POST in a CLIENT span, child of the active one (the processor's span of the delivery event):
 * the request carries the span's W3C `traceparent`, so the receiver can continue the trace.
 */
export async function postOnce(options: PostOptions): Promise<PostResult> {
  const span = tracer.startSpan("POST", { kind: SpanKind.CLIENT });
  const traceparent = traceparentOf(span.spanContext());
  const result = await post(traceparent ? { ...options, headers: { ...options.headers, traceparent } } : options);
  if (span.isRecording()) {
    span.setAttributes(clientAttributes(options.url, result));
    if (result.error) failSpan(span, result.error);
    else if (result.statusCode !== null && result.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `the receiver answered ${result.statusCode}` });
  }
  span.end();
  return result;
}

/** HTTP client span attributes; the URL's path and query are left out (they may carry a token). */
function clientAttributes(target: string, result: PostResult): Attributes {
  const url = new URL(target);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  const status = result.statusCode === null ? {} : { "http.response.status_code": result.statusCode };
  return { "http.request.method": "POST", "server.address": url.hostname, "server.port": port, ...status };
}

/**
 * One POST with no redirect following (Node's http never follows them), a deadline over the whole
 * exchange, and the address check on IP literals (which skip DNS), on every resolved address, and
 * on the socket's actual peer.
 */
function post(options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(options.url);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const failed = (error: Error): PostResult => ({ statusCode: null, responseBody: null, durationMs: elapsed(), error, retryAfter: null });

  if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.resolve(failed(new Error(`unsupported protocol ${url.protocol}`)));
  if (!options.allowPrivateNetworks && isIP(host)) {
    const range = refusedRange(host);
    if (range) return Promise.resolve(failed(new AddressRefusedError(host, host, range)));
  }

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(url, {
      method: "POST",
      headers: { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
      agent: false,
      ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookup(host) }),
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    if (!options.allowPrivateNetworks) {
      request.on("socket", (socket) => {
        socket.once("connect", () => {
          const peer = socket.remoteAddress ?? "";
          const range = refusedRange(peer);
          if (range) request.destroy(new AddressRefusedError(host, peer, range));
        });
      });
    }
    let responded = false;
    // After a response arrives, errors come from our own early close of the body: not a failure.
    request.on("error", (error) => {
      if (!responded) finish(failed(error));
    });
    request.on("response", (response) => {
      responded = true;
      void readBounded(response, options.maxResponseBytes).then((responseBody) =>
        finish({
          statusCode: response.statusCode ?? null,
          responseBody,
          durationMs: elapsed(),
          error: null,
          retryAfter: response.headers["retry-after"] ?? null,
        }),
      );
    });
    request.end(options.body);
  });
}
