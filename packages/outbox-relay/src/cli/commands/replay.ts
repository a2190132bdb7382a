import type { ReplayFilter } from "../../admin/admin.ts";
import type { ReplayResult } from "../../admin/results.ts";
import { ReplayRefusedError } from "../../outbox/index.ts";
import { OperationError } from "../errors.ts";
import { print, type CommandContext } from "../output.ts";

/** `outbox replay --type T --since ISO [--until ISO]`: see replayProcessed in outbox-relay/outbox. */
export async function replayCommand(ctx: CommandContext, { type, since, until }: ReplayFilter): Promise<ReplayResult> {
  const result = await ctx.admin.replay({ type, since, until }).catch((error: unknown) => {
    if (error instanceof ReplayRefusedError) throw new OperationError(error.code, error.message, { cause: error });
    throw error;
  });
  const count = result.replayed.length;
  print(ctx, result, () =>
    [`replayed ${count} ${type} event${count === 1 ? "" : "s"} created ${result.since} .. ${result.until}`, ...result.replayed.map((r) => `${r.originalId} -> ${r.copyId}`)].join("\n"),
  );
  return result;
}
