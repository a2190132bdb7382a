import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { isConnectionError, isTransientError } from "outbox-relay";
import { validationIssues, type RequestPart } from "./validation.ts";

export interface FieldIssue {
  path: string;
  message: string;
}

/** An error the API answers with its own status and stable code; 5xx details never leave the server. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues?: FieldIssue[],
    /** Response headers that belong to this answer (WWW-Authenticate on a 401). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError(404, `${what.toUpperCase().replace(/ /g, "_")}_NOT_FOUND`, `${what} ${id} not found`);
}

export function conflict(code: string, message: string): ApiError {
  return new ApiError(409, code, message);
}

export function invalid(issues: FieldIssue[], where: string = "body"): ApiError {
  const summary = issues.map((issue) => `${issue.path || `(${where})`} ${issue.message}`).join("; ");
  return new ApiError(400, "VALIDATION_FAILED", `invalid request ${where}: ${summary}`, issues);
}

export const bodyLimitBytes = 64 * 1024;

/** Fastify's own client errors, with messages a client can act on. */
const fastifyMessages: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: `request body is larger than the ${bodyLimitBytes}-byte limit` },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "MALFORMED_JSON", message: "request body is not valid JSON" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "EMPTY_BODY", message: "request body is empty but its content type is application/json" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: "UNSUPPORTED_MEDIA_TYPE", message: "request body must be application/json" },
};

/**
 * Prisma's codes for the same conditions: P1001 the database cannot be reached, P1017 the server
 * closed the connection, P2024 no connection free in time, P2034 a write conflict or deadlock.
 */
const prismaUnavailable = new Set(["P1001", "P1017", "P2024", "P2034"]);

/** A failure of capacity or of the database, not of the request: the client should come back. */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return isConnectionError(error) || isTransientError(error) || (typeof code === "string" && prismaUnavailable.has(code));
}

/**
 * The API's one error handler: every refusal is `{ error, code, issues? }` (responses.ts,
 * `errorBody`). A request that fails its route's schema answers 400 VALIDATION_FAILED with one
 * issue per failing field, whichever part failed; 5xx details stay in the log.
 */
export function errorHandler(error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!(error instanceof ApiError) && error.validation) {
    const where = error.validationContext ?? "body";
    error = invalid(validationIssues(error.validation, rawInput(request, where)), where === "querystring" ? "query" : where);
  }
  if (error instanceof ApiError) {
    if (error.statusCode === 503) void reply.header("retry-after", "1");
    if (error.headers) void reply.headers(error.headers);
    return reply.status(error.statusCode).send({ error: error.message, code: error.code, ...(error.issues ? { issues: error.issues } : {}) });
  }
  if (isUnavailable(error)) {
    request.log.warn({ err: error }, "request refused: the database is unavailable or saturated");
    return reply.status(503).header("retry-after", "1").send({ error: "the database is unavailable or saturated; try again shortly", code: "UNAVAILABLE" });
  }
  const known = fastifyMessages[error.code];
  if (known) return reply.status(error.statusCode ?? 400).send({ error: known.message, code: known.code });
  if (error instanceof SyntaxError || (error.statusCode === 400 && error.message.includes("JSON"))) {
    return reply.status(400).send({ error: "request body is not valid JSON", code: "MALFORMED_JSON" });
  }
  if (error.statusCode && error.statusCode < 500) {
    return reply.status(error.statusCode).send({ error: error.message, code: error.code ?? "BAD_REQUEST" });
  }
  request.log.error({ err: error }, "request failed");
  return reply.status(500).send({ error: "internal server error", code: "INTERNAL" });
}

/** A request part as it arrived (a body that failed validation was not replaced by its parsed value). */
function rawInput(request: FastifyRequest, where: RequestPart): unknown {
  if (where === "querystring") return request.query;
  return request[where];
}
