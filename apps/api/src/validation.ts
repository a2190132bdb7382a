import type { FastifySchemaValidationError } from "fastify";
import type { z } from "zod";
import { invalid, type FieldIssue } from "./errors.ts";

/** The parts of a request a route's schema validates, as Fastify names them in `error.validationContext`. */
export type RequestPart = "body" | "params" | "querystring" | "headers";

/**
 * Parses a value with its schema, or throws the same 400 a route's schema gives. Routes do not call
 * it: they declare `schema: { params, querystring, headers, body }` and Fastify validates (see
 * app.ts); this is for input that reaches a handler some other way.
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: RequestPart = "body"): z.infer<S> {
  const input = value ?? (where === "body" ? undefined : {});
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(
    result.error.issues.map((issue) => fieldIssue(issue.path.map(String), issue.code === "invalid_type", issue.message, input)),
    where,
  );
}

/**
 * The field issues of a Fastify validation error, whichever compiler made it: zod's (through
 * fastify-type-provider-zod: `instancePath` is the issue's path joined with `/`, `keyword` its code)
 * or Ajv's, for a route that still declares JSON Schema (`keyword` "required" names the missing
 * property in `params`). `input` is the request part as it arrived.
 */
export function validationIssues(errors: readonly FastifySchemaValidationError[], input: unknown): FieldIssue[] {
  return errors.map((error) => {
    const path = error.instancePath.split("/").filter((key) => key !== "");
    const missing = error.keyword === "required" ? (error.params as { missingProperty?: unknown }).missingProperty : undefined;
    if (typeof missing === "string") return { path: [...path, missing].join("."), message: "is required" };
    return fieldIssue(path, error.keyword === "invalid_type" || error.keyword === "type", error.message ?? "is not valid", input);
  });
}

/** A type error on a value that is absent reads "is required", whatever the schema's own message. */
function fieldIssue(path: string[], typeError: boolean, message: string, input: unknown): FieldIssue {
  const dotted = path.join(".");
  if (typeError && valueAt(input, path) === undefined) return { path: dotted, message: dotted ? "is required" : "a JSON object is required" };
  return { path: dotted, message };
}

function valueAt(input: unknown, path: string[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs in the database; anything else cannot name a row, so it answers 404 like an unknown id. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
