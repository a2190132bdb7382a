import type { EventCatalog, EventTypeOf, NewEventOf, PayloadOf } from "../events/index.ts";
import type { Logger } from "../logger/index.ts";
import type { Database, Queryable } from "../sql/index.ts";

/** The event a handler runs for, as the outbox row holds it, its payload checked against its schema. */
export interface HandledEvent<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>> {
  id: string;
  type: T;
  payload: PayloadOf<C, T>;
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
export type AtCommit<Tx = Queryable> = <I>(key: string, items: readonly I[], write: (tx: Tx, items: I[]) => Promise<void>) => void;

/**
 * What a handler of one event gets. `Tx` is what `tx` is: the engine's Queryable, or, for a worker
 * given a Prisma client, its interactive-transaction client (PrismaTransaction).
 */
export interface HandlerContext<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>, Tx = Queryable> {
  /** The transaction the effects commit in, together with the event's `processed` mark. */
  tx: Tx;
  event: HandledEvent<C, T>;
  logger: Logger;
  /** Publishes a follow-up event in the same transaction, linked to this one (causation id). */
  publish: (event: NewEventOf<C>) => Promise<string>;
  atCommit: AtCommit<Tx>;
}

/** What a batch handler gets: every event of its type in the commit group, in the order they came. */
export interface BatchContext<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>, Tx = Queryable> {
  /** The transaction the effects commit in, together with the events' `processed` marks. */
  tx: Tx;
  events: HandledEvent<C, T>[];
  logger: Logger;
  /** Publishes follow-up events in the same transaction, in one statement; name each one's causationId. */
  publish: (events: readonly NewEventOf<C>[]) => Promise<string[]>;
  atCommit: AtCommit<Tx>;
}

/** A handler of one event at a time, run in the commit group's transaction. */
export type TransactionalHandler<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>, Tx = Queryable> = (
  context: HandlerContext<C, T, Tx>,
) => Promise<void>;

/**
 * A handler that does the effects of many events of its type at once, in a number of statements
 * that does not grow with the batch. If it throws, the processor runs it again on each event alone
 * (under a savepoint each), so one bad event fails only itself: a batch handler must give the
 * same result for [a, b] as for [a] then [b].
 */
export interface BatchHandler<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>, Tx = Queryable> {
  kind: "batch";
  run(context: BatchContext<C, T, Tx>): Promise<void>;
}

/**
 * A handler for an event whose work is a call outside the database (an HTTP webhook). It runs
 * outside any transaction; the processor marks the event handled after it returns. Its effects
 * are at-least-once, so it passes the event id along for the receiver to de-duplicate.
 */
export interface ExternalHandler<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>> {
  kind: "external";
  run(context: { db: Database; event: HandledEvent<C, T>; logger: Logger }): Promise<void>;
}

export type EventHandler<C extends EventCatalog = EventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>, Tx = Queryable> =
  | TransactionalHandler<C, T, Tx>
  | BatchHandler<C, T, Tx>
  | ExternalHandler<C, T>;

/** A handler per event type of a catalog; a type with none fails its events (NoHandlerError). */
export type HandlerMap<C extends EventCatalog = EventCatalog, Tx = Queryable> = { [T in EventTypeOf<C>]?: EventHandler<C, T, Tx> };

/** Any catalog's handler map, as the engine takes it (a map typed from one catalog is assignable to it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandlerMap = { [type: string]: EventHandler<EventCatalog, any, any> | undefined };

export function batch<C extends EventCatalog, T extends EventTypeOf<C>, Tx = Queryable>(run: BatchHandler<C, T, Tx>["run"]): BatchHandler<C, T, Tx> {
  return { kind: "batch", run };
}

export function external<C extends EventCatalog, T extends EventTypeOf<C>>(run: ExternalHandler<C, T>["run"]): ExternalHandler<C, T> {
  return { kind: "external", run };
}

/**
 * The handlers of a catalog's events, typed from it: each one's event payload is its type's
 * schema output, and `publish` takes the catalog's events.
 */
export function defineHandlers<C extends EventCatalog>(_catalog: C, handlers: HandlerMap<C>): HandlerMap<C> {
  return handlers;
}

export function isExternal(handler: EventHandler | undefined): handler is ExternalHandler {
  return typeof handler === "object" && handler.kind === "external";
}
