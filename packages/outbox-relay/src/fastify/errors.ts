import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from "fastify";
import { DeadLetterError, ReleaseNotQueuedError } from "../dead-letter/index.ts";
import { ReplayRefusedError } from "../outbox/index.ts";

/** A refusal with its HTTP status and a stable code, as the admin routes answer it: `{ error, code }`. */
export class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "Refusal";
  }
}

export const eventNotFound = (id: string) => new Refusal(404, "EVENT_NOT_FOUND", `event ${id} not found`);

/** The refusal an admin operation's error stands for (the same for the JSON routes and the page's forms); undefined for a failure. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof Refusal) return error;
  if (error instanceof ReleaseNotQueuedError) return new Refusal(503, error.code, error.message);
  if (error instanceof DeadLetterError) return new Refusal(error.code === "EVENT_NOT_FOUND" ? 404 : 409, error.code, error.message);
  if (error instanceof ReplayRefusedError) return new Refusal(409, error.code, error.message);
  return undefined;
}

export interface FieldIssue {
  path: string;
  message: string;
}

const partNames: Record<string, string> = { querystring: "query" };

function valueAt(input: unknown, path: string[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** One issue per failing field, dotted; a missing value reads "is required" whatever the schema's message. */
function issuesOf(errors: readonly FastifySchemaValidationError[], input: unknown): FieldIssue[] {
  return errors.map((error) => {
    const path = error.instancePath.split("/").filter((key) => key !== "");
    const dotted = path.join(".");
    if (error.keyword === "invalid_type" && valueAt(input, path) === undefined) return { path: dotted, message: dotted ? "is required" : "a JSON object is required" };
    return { path: dotted, message: error.message ?? "is not valid" };
  });
}

function validationFailed(error: FastifyError, request: FastifyRequest) {
  const context = error.validationContext ?? "body";
  const where = partNames[context] ?? context;
  const issues = issuesOf(error.validation ?? [], context === "querystring" ? request.query : request[context]);
  const summary = issues.map((issue) => `${issue.path || `(${where})`} ${issue.message}`).join("; ");
  return { error: `invalid request ${where}: ${summary}`, code: "VALIDATION_FAILED", issues };
}

/**
 * The JSON routes' error handler: a refusal answers `{ error, code }` (503 with Retry-After), input
 * that fails a route's schema 400 VALIDATION_FAILED naming each field. Anything else (the
 * authenticate hook's refusals, a failure) goes on to the application's error handler.
 */
export function answerRefusals(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const refusal = refusalOf(error);
  if (refusal) {
    if (refusal.statusCode === 503) void reply.header("retry-after", "1");
    return reply.status(refusal.statusCode).send({ error: refusal.message, code: refusal.code });
  }
  if (error.validation) return reply.status(400).send(validationFailed(error, request));
  throw error;
}
