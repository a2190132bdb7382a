export { publish, publishMany, type NewEvent } from "./publish.ts";
export { listenForOutbox, outboxChannel, type ListenOptions, type OutboxListener } from "./listen.ts";
export { replayProcessed, ReplayRefusedError, type ReplayedEvent, type ReplayOptions } from "./replay.ts";
