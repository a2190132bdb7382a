import { isTransientError } from "outbox-relay";
import { ApiError } from "./errors.ts";

const transientTries = 4;
const changeTries = 5;

/**
 * Runs a read-then-write request: `attempt` reads, checks and writes with its statement guarded
 * by what it read (`WHERE status = <read status>`), returning undefined when that guard found the
 * row changed meanwhile; then it runs again on a fresh read. A deadlock or serialization failure
 * also runs it again, after a short random pause. Neither reaches the client: past the tries, the
 * answer is 503 with Retry-After, as for any overload.
 */
export async function retrying<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  let transient = 0;
  for (let changed = 0; changed < changeTries; ) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
      changed++;
    } catch (error) {
      if (!isTransientError(error)) throw error;
      if (++transient >= transientTries) throw busy();
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * transient));
    }
  }
  throw busy();
}

function busy(): ApiError {
  return new ApiError(503, "CONTENDED", "the resource is changing under heavy concurrency; try again shortly");
}
