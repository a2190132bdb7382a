import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

type Answer = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

/** A real HTTP server on 127.0.0.1 that records every request and answers as told (by request number, from 1). */
export async function startReceiver(answer: (n: number, request: ReceivedRequest) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      requests.push(request);
      const { status, body = "", headers = {}, delayMs = 0 } = answer(requests.length, request);
      setTimeout(() => res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The headers a Standard Webhooks verifier needs, as plain strings. */
export function webhookHeaders(request: ReceivedRequest): Record<string, string> {
  return {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  };
}

export interface HoldingReceiver {
  url: (path: string) => string;
  /** Requests being held now, per path. */
  held: Map<string, number>;
  /** The most requests held at once, per path and in all. */
  maxHeld: Map<string, number>;
  maxHeldTotal: () => number;
  heldTotal: () => number;
  requests: ReceivedRequest[];
  /** Answers every held request 200, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

/** A slow receiver on 127.0.0.1: it holds every request (no answer) until release(), counting how many it holds at once. */
export async function startHoldingReceiver(): Promise<HoldingReceiver> {
  const requests: ReceivedRequest[] = [];
  const held = new Map<string, number>();
  const maxHeld = new Map<string, number>();
  const waiting: (() => void)[] = [];
  let maxTotal = 0;
  let released = false;
  const total = () => [...held.values()].reduce((sum, n) => sum + n, 0);
  const server = createServer((req, res) => {
    const path = req.url ?? "";
    requests.push({ method: req.method ?? "", path, headers: req.headers, body: "", at: Date.now() });
    held.set(path, (held.get(path) ?? 0) + 1);
    maxHeld.set(path, Math.max(maxHeld.get(path) ?? 0, held.get(path)!));
    maxTotal = Math.max(maxTotal, total());
    const answer = () => {
      held.set(path, held.get(path)! - 1);
      res.writeHead(200).end("ok");
    };
    req.resume();
    if (released) answer();
    else waiting.push(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    held,
    maxHeld,
    maxHeldTotal: () => maxTotal,
    heldTotal: total,
    requests,
    release() {
      released = true;
      for (const answer of waiting.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
