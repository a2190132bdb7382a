export { publish, publishMany, type NewEvent } from "./publish.ts";
export { listenForOutbox, outboxChannel, type ListenOptions, type OutboxListener } from "./listen.ts";
