import { replayResult, type ReplayResult } from "../../admin/results.ts";
import { replayProcessed, ReplayRefusedError, type ReplayOptions } from "../../outbox/index.ts";
import { OperationError } from "../errors.ts";
import { print, type CommandContext } from "../output.ts";

export type { ReplayedEvent, ReplayOptions } from "../../outbox/index.ts";

/** `outbox replay --type T --since ISO [--until ISO]`: see replayProcessed in outbox-relay/outbox. */
export async function replayCommand(ctx: CommandContext, options: Omit<ReplayOptions, "catalog">): Promise<ReplayResult> {
  let replay: Awaited<ReturnType<typeof replayProcessed>>;
  try {
    replay = await replayProcessed(ctx.db, { ...options, catalog: ctx.queues.catalog });
  } catch (error) {
    if (error instanceof ReplayRefusedError) throw new OperationError(error.code, error.message, { cause: error });
    throw error;
  }
  const result = replayResult(options.type, options.since, replay.until, replay.replayed);
  const count = result.replayed.length;
  print(ctx, result, () =>
    [`replayed ${count} ${options.type} event${count === 1 ? "" : "s"} created ${result.since} .. ${result.until}`, ...result.replayed.map((r) => `${r.originalId} -> ${r.copyId}`)].join("\n"),
  );
  return result;
}
