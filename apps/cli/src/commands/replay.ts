import { replayProcessed, ReplayRefusedError, type ReplayedEvent, type ReplayOptions } from "@outbox/outbox";
import { OperationError } from "../errors.ts";
import { print, type CommandContext } from "../output.ts";

export type { ReplayedEvent, ReplayOptions } from "@outbox/outbox";

/** `outbox replay --type T --since ISO [--until ISO]`: see replayProcessed in @outbox/outbox. */
export async function replayCommand(ctx: CommandContext, options: ReplayOptions): Promise<ReplayedEvent[]> {
  let result: Awaited<ReturnType<typeof replayProcessed>>;
  try {
    result = await replayProcessed(ctx.db, options);
  } catch (error) {
    if (error instanceof ReplayRefusedError) throw new OperationError(error.code, error.message, { cause: error });
    throw error;
  }
  const { until, replayed } = result;
  const range = `${options.since.toISOString()} .. ${until.toISOString()}`;
  print(ctx, { type: options.type, since: options.since.toISOString(), until: until.toISOString(), replayed }, () =>
    [`replayed ${replayed.length} ${options.type} event${replayed.length === 1 ? "" : "s"} created ${range}`, ...replayed.map((r) => `${r.originalId} -> ${r.copyId}`)].join("\n"),
  );
  return replayed;
}
