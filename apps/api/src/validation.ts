import type { z } from "zod";
import { invalid, type FieldIssue } from "./errors.ts";

/** Parses a request part with its schema, or throws a 400 naming every failing field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "params" | "headers" = "body"): z.infer<S> {
  const result = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (result.success) return result.data;
  throw invalid(result.error.issues.map(toFieldIssue), where);
}

function toFieldIssue(issue: z.core.$ZodIssue): FieldIssue {
  const path = issue.path.map(String).join(".");
  const missing = issue.code === "invalid_type" && /received undefined$/.test(issue.message);
  if (missing) return { path, message: path ? "is required" : "a JSON object is required" };
  return { path, message: issue.message };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs in the database; anything else cannot name a row, so it answers 404 like an unknown id. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
