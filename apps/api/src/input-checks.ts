import type { FastifyInstance, FastifyRequest } from "fastify";
import { inspectJson, unstorableTextMessage } from "outbox-relay";
import { ApiError, invalid } from "./errors.ts";

/** Objects and arrays nested deeper than this in a body are refused (no body of this API needs more than 4). */
export const maxBodyDepth = 32;

const parts = ["params", "query", "body"] as const;

/**
 * Before any route reads its input (preValidation): a body nested deeper than maxBodyDepth answers
 * 400 BODY_TOO_DEEP, and a string (or key) Postgres cannot store, a NUL character or an unpaired
 * surrogate, anywhere in the path parameters, the query or the body, answers 400 naming the field.
 * The walk is iterative, so no nesting can overflow the stack.
 */
export function registerInputChecks(app: FastifyInstance): void {
  app.addHook("preValidation", async (request: FastifyRequest) => {
    for (const where of parts) {
      const inspection = inspectJson(request[where], { maxDepth: maxBodyDepth });
      if (inspection.tooDeep) throw new ApiError(400, "BODY_TOO_DEEP", `request ${where} is nested deeper than ${maxBodyDepth} levels`);
      if (inspection.unstorable.length > 0) throw invalid(inspection.unstorable.map((path) => ({ path, message: unstorableTextMessage })), where);
    }
  });
}
