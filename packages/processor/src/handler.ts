import type { EventPayload, EventType } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import type { AnyNewEvent, NewEvent } from "@outbox/outbox";
import type { Database, Queryable } from "@outbox/sql";

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

/**
 * Adds items to a write the processor makes once, last, just before the commit group's transaction
 * commits: the items every handler of the group adds under one `key` go to one call of `write`
 * (the first `write` given for the key). Meant for hot rows many events update, such as a tenant's
 * daily counters: written last, their row locks are held only for the commit and are never held
 * while another lock is awaited, so they serialise nothing else and take part in no deadlock.
 * Items of an event whose handler fails are dropped with its other effects.
 */
export type AtCommit = <I>(key: string, items: readonly I[], write: (tx: Queryable, items: I[]) => Promise<void>) => void;

/** What a handler of one event gets. */
export interface HandlerContext<T extends EventType = EventType> {
  /** The transaction the effects commit in, together with the event's `processed` mark. */
  tx: Queryable;
  event: HandledEvent<T>;
  logger: Logger;
  /** Publishes a follow-up event in the same transaction, linked to this one (causation id). */
  publish: <U extends EventType>(event: NewEvent<U>) => Promise<string>;
  atCommit: AtCommit;
}

/** What a batch handler gets: every event of its type in the commit group, in the order they came. */
export interface BatchContext<T extends EventType = EventType> {
  /** The transaction the effects commit in, together with the events' `processed` marks. */
  tx: Queryable;
  events: HandledEvent<T>[];
  logger: Logger;
  /** Publishes follow-up events in the same transaction, in one statement; name each one's causationId. */
  publish: (events: readonly AnyNewEvent[]) => Promise<string[]>;
  atCommit: AtCommit;
}

/** A handler of one event at a time, run in the commit group's transaction. */
export type TransactionalHandler<T extends EventType = EventType> = (context: HandlerContext<T>) => Promise<void>;

/**
 * A handler that does the effects of many events of its type at once, in a number of statements
 * that does not grow with the batch. If it throws, the processor runs it again on each event alone
 * (under a savepoint each), so one bad event fails only itself: a batch handler must give the
 * same result for [a, b] as for [a] then [b].
 */
export interface BatchHandler<T extends EventType = EventType> {
  kind: "batch";
  run(context: BatchContext<T>): Promise<void>;
}

/**
 * A handler for an event whose work is a call outside the database (an HTTP webhook). It runs
 * outside any transaction; the processor marks the event handled after it returns. Its effects
 * are at-least-once, so it passes the event id along for the receiver to de-duplicate.
 */
export interface ExternalHandler<T extends EventType = EventType> {
  kind: "external";
  run(context: { db: Database; event: HandledEvent<T>; logger: Logger }): Promise<void>;
}

export type EventHandler<T extends EventType = EventType> = TransactionalHandler<T> | BatchHandler<T> | ExternalHandler<T>;

export type HandlerMap = { [T in EventType]?: EventHandler<T> };

export function batch<T extends EventType>(run: BatchHandler<T>["run"]): BatchHandler<T> {
  return { kind: "batch", run };
}

export function external<T extends EventType>(run: ExternalHandler<T>["run"]): ExternalHandler<T> {
  return { kind: "external", run };
}

export function defineHandlers(handlers: HandlerMap): HandlerMap {
  return handlers;
}

export function isExternal(handler: EventHandler | undefined): handler is ExternalHandler {
  return typeof handler === "object" && handler.kind === "external";
}
