import type { z } from "zod";
import { invalid, type FieldIssue } from "./errors.ts";

/** Parses a request part with its schema, or throws a 400 naming every failing field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "params" | "query" | "headers" = "body"): z.infer<S> {
  const input = value ?? (where === "body" ? undefined : {});
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(result.error.issues.map((issue) => toFieldIssue(issue, input)), where);
}

/** A type error on a value that is absent reads "is required", whatever the schema's own message. */
function toFieldIssue(issue: z.core.$ZodIssue, input: unknown): FieldIssue {
  const path = issue.path.map(String).join(".");
  if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
    return { path, message: path ? "is required" : "a JSON object is required" };
  }
  return { path, message: issue.message };
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs in the database; anything else cannot name a row, so it answers 404 like an unknown id. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
