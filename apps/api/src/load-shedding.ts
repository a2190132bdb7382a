import underPressure from "@fastify/under-pressure";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface LoadSheddingOptions {
  /** API_MAX_IN_FLIGHT: /api requests in progress at once; more are refused at once. */
  maxInFlight: number;
  /** API_MAX_IN_FLIGHT_PER_TENANT: of those, how many one tenant may hold. */
  maxInFlightPerTenant: number;
  /** Event loop delay past which /api requests are refused (the process is saturated). */
  maxEventLoopDelayMs: number;
}

const slot = Symbol("in-flight slot");
type SlottedRequest = FastifyRequest & { [slot]?: { tenant: string | undefined } };

export function overloaded(reply: FastifyReply, why: string): FastifyReply {
  return reply
    .status(503)
    .header("retry-after", "1")
    .send({ error: `the server is at capacity (${why}); try again in a second`, code: "OVERLOADED" });
}

function tenantBusy(reply: FastifyReply, max: number): FastifyReply {
  return reply
    .status(429)
    .header("retry-after", "1")
    .send({ error: `this tenant already has ${max} requests in progress; try again in a second`, code: "TOO_MANY_IN_FLIGHT" });
}

/** Whether the route the router matched is the API's (its pattern, never the URL's text: `/%61pi/…` matched `/api/…`). */
const isApiRoute = (request: FastifyRequest) => !request.is404 && (request.routeOptions.url ?? "").startsWith("/api/");
const tenantOf = (request: FastifyRequest) => (request.caller?.kind === "tenant" ? request.caller.tenantId : undefined);

/**
 * Past its capacity the API refuses work at once (503 with Retry-After) instead of queueing it
 * until every request is late: at most `maxInFlight` /api requests run at a time, one tenant at
 * most `maxInFlightPerTenant` of them (429 past that), and none starts while the event loop lags
 * (@fastify/under-pressure). A slot is taken once the body is in (preValidation), so a client
 * that sends its body slowly holds a socket, bounded by API_REQUEST_TIMEOUT_MS, never a slot;
 * the slot is given back once the answer is ready, even to a client that has gone.
 * Health, readiness, metrics and the admin UI are never refused: on-call must see a loaded
 * process as it is.
 */
export async function registerLoadShedding(app: FastifyInstance, { maxInFlight, maxInFlightPerTenant, maxEventLoopDelayMs }: LoadSheddingOptions): Promise<void> {
  let inFlight = 0;
  const perTenant = new Map<string, number>();
  const release = (request: SlottedRequest) => {
    const taken = request[slot];
    if (!taken) return;
    request[slot] = undefined;
    inFlight--;
    if (taken.tenant === undefined) return;
    const left = perTenant.get(taken.tenant)! - 1;
    if (left === 0) perTenant.delete(taken.tenant);
    else perTenant.set(taken.tenant, left);
  };
  app.addHook("preValidation", async (request: SlottedRequest, reply) => {
    if (!isApiRoute(request)) return;
    if (inFlight >= maxInFlight) return overloaded(reply, `${maxInFlight} requests in progress`);
    const tenant = tenantOf(request);
    const held = tenant === undefined ? 0 : (perTenant.get(tenant) ?? 0);
    if (held >= maxInFlightPerTenant) return tenantBusy(reply, maxInFlightPerTenant);
    inFlight++;
    if (tenant !== undefined) perTenant.set(tenant, held + 1);
    request[slot] = { tenant };
  });
  // Given back when the answer is ready (onSend): the work is done then, whether or not the client
  // is still there to read it (a client that hung up fires neither onResponse nor, once its body
  // is in, onRequestAbort).
  app.addHook("onSend", async (request: SlottedRequest) => release(request));
  app.addHook("onResponse", async (request: SlottedRequest) => release(request));
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    pressureHandler: (request, reply, type) => {
      if (isApiRoute(request)) void overloaded(reply, `under pressure: ${type}`);
    },
  });
}
