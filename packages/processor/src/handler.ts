import type { PrismaClient, Tx } from "@outbox/db";
import type { EventPayload, EventType } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import type { NewEvent } from "@outbox/outbox";

/** The event a handler runs for, as the outbox row holds it. */
export interface HandledEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  payload: EventPayload<T>;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  createdAt: Date;
}

export interface HandlerContext<T extends EventType = EventType> {
  /** The transaction the effects commit in, together with the inbox mark and the `processed` status. */
  tx: Tx;
  event: HandledEvent<T>;
  logger: Logger;
  /** Publishes a follow-up event in the same transaction, linked to this one (causation id). */
  publish: <U extends EventType>(event: NewEvent<U>) => Promise<string>;
}

/**
 * A handler for an event whose work is a call outside the database (an HTTP webhook). It runs
 * outside any transaction; the processor marks the event handled after it returns. Its effects
 * are at-least-once, so it passes the event id along for the receiver to de-duplicate.
 */
export interface ExternalHandler<T extends EventType = EventType> {
  kind: "external";
  run(context: { prisma: PrismaClient; event: HandledEvent<T>; logger: Logger }): Promise<void>;
}

export type TransactionalHandler<T extends EventType = EventType> = (context: HandlerContext<T>) => Promise<void>;

export type EventHandler<T extends EventType = EventType> = TransactionalHandler<T> | ExternalHandler<T>;

export type HandlerMap = { [T in EventType]?: EventHandler<T> };

export function external<T extends EventType>(run: ExternalHandler<T>["run"]): ExternalHandler<T> {
  return { kind: "external", run };
}

export function defineHandlers(handlers: HandlerMap): HandlerMap {
  return handlers;
}
