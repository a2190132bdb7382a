import type { z } from "zod";
import type { Statement } from "../sql/index.ts";
import type { Executor } from "./executor.ts";
import { publishEvents, publishStatement, type NewEvent } from "./publish.ts";
import { InvalidEventError, describeIssues } from "./validate.ts";

export const queueNames = { events: "events", webhooks: "webhooks", deadLetter: "dead-letter" } as const;
/** `events` for handlers that work in the database; `webhooks` for slow calls out of it (external handlers). */
export type WorkQueue = typeof queueNames.events | typeof queueNames.webhooks;

/** How the pipeline treats one event type. Priority: 1 is the highest (BullMQ's order). */
export interface EventPolicy {
  queue: WorkQueue;
  priority: number;
  /** The priority of its retries (default: its priority); a larger number runs them below first attempts. */
  retryPriority: number;
  attempts: number;
  /** First retry delay; each later one doubles it. */
  backoffMs: number;
  timeoutMs: number;
  /** Whether events of one aggregate run one at a time in commit order. */
  ordered: boolean;
}

export const defaultPolicy: EventPolicy = {
  queue: queueNames.events,
  priority: 10,
  retryPriority: 10,
  attempts: 3,
  backoffMs: 2000,
  timeoutMs: 30_000,
  ordered: true,
};

/** The entity whose events run in order (when the type is ordered). */
export interface AggregateRef {
  type: string;
  id: string;
}

/** One event type, as a user declares it. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  /** Checked at publish (nothing is written when it fails) and again before the handler runs. */
  schema: S;
  /** The aggregate an event belongs to, read from its payload when the producer names none. */
  aggregate: (payload: z.output<S>) => AggregateRef;
  priority: number;
  /** Default `priority`: the priority its retries run at (webhook deliveries run theirs below first attempts). */
  retryPriority?: number;
  /** Default true: one aggregate's events run one at a time, in commit order. */
  ordered?: boolean;
  policy?: Partial<Pick<EventPolicy, "queue" | "attempts" | "backoffMs" | "timeoutMs">>;
}

/** Each event type's payload schema, by type name. */
export type Schemas = Record<string, z.ZodType>;

/**
 * A catalog of event types: their schemas, aggregates and policies, and the typed publish that
 * writes them into the outbox in the caller's transaction. Made by defineEvents; the engine reads
 * it to validate, route, order and retry events.
 */
// The default, `any`, is what engine code takes: every user's catalog is assignable to it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface EventCatalog<S extends Schemas = any> {
  readonly types: readonly (keyof S & string)[];
  /** The definitions it was made from, their payload types erased: to make a catalog of these types and more (`withWebhooks`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly definitions: Readonly<Record<string, EventDefinition<any>>>;
  /** Types whose events do not wait for earlier events of their aggregate. */
  readonly unorderedTypes: readonly string[];
  has(type: string): type is keyof S & string;
  /** The type's policy; an unknown type gets the default one (its events fail validation). */
  policyOf(type: string): EventPolicy;
  /** The payload checked against its type's schema; InvalidEventError names every failing field. */
  parse<T extends keyof S & string>(type: T, payload: unknown): z.output<S[T]>;
  parse(type: string, payload: unknown): unknown;
  aggregateOf(type: keyof S & string, payload: unknown): AggregateRef;
  /**
   * Writes an event into the outbox inside the caller's transaction (a Prisma interactive
   * transaction, a node-postgres client between BEGIN and COMMIT, or outbox-relay/sql's Queryable):
   * it exists exactly when the caller's change commits. Returns its id.
   */
  publish<T extends keyof S & string>(executor: Executor, event: NewEvent<S, T>): Promise<string>;
  /** Several events in one statement, in the given order (their `sequence` order). */
  publishMany(executor: Executor, events: readonly AnyNewEvent<S>[]): Promise<string[]>;
  /**
   * The INSERT that publishes these events, for a caller that writes its business rows and its
   * events in one statement: put it in a data-modifying CTE (`WITH …, published AS (${statement})`).
   * `onlyIf`, a boolean SQL expression, makes the insert conditional on the rest of that statement.
   */
  publishStatement(events: readonly AnyNewEvent<S>[], options?: { onlyIf?: Statement }): { statement: Statement; ids: string[] };
}

export type AnyNewEvent<S extends Schemas = Schemas> = { [T in keyof S & string]: NewEvent<S, T> }[keyof S & string];

/** A catalog's event type names. */
export type EventTypeOf<C extends EventCatalog> = C extends EventCatalog<infer S> ? keyof S & string : never;
/** The payload of one type of a catalog, as its schema outputs it. */
export type PayloadOf<C extends EventCatalog, T extends EventTypeOf<C>> = C extends EventCatalog<infer S> ? z.output<S[T]> : never;
/** An event to publish, of any type of the catalog. */
export type NewEventOf<C extends EventCatalog> = C extends EventCatalog<infer S> ? AnyNewEvent<S> : never;

/**
 * Declares a service's event types. Each gets a zod schema, the aggregate its events belong to,
 * a priority, whether one aggregate's events run in order (default yes) and, optionally, its retry
 * policy and queue:
 *
 *     const events = defineEvents({
 *       OrderPlaced: { schema: orderPlaced, aggregate: (p) => ({ type: "order", id: p.orderId }), priority: 1 },
 *     });
 *     await prisma.$transaction(async (tx) => { …; await events.publish(tx, { type: "OrderPlaced", payload }); });
 */
export function defineEvents<S extends Schemas>(definitions: { [T in keyof S]: EventDefinition<S[T]> }): EventCatalog<S> {
  const entries = Object.entries(definitions) as [keyof S & string, EventDefinition][];
  const policies = new Map<string, EventPolicy>();
  for (const [type, definition] of entries) policies.set(type, policyFrom(type, definition));
  const defined = (type: string): EventDefinition | undefined => (Object.hasOwn(definitions, type) ? (definitions[type]) : undefined);

  const catalog: EventCatalog<S> = {
    types: entries.map(([type]) => type),
    definitions,
    unorderedTypes: entries.filter(([type]) => !policies.get(type)!.ordered).map(([type]) => type),
    has: (type): type is keyof S & string => policies.has(type),
    policyOf: (type) => policies.get(type) ?? defaultPolicy,
    parse: (type: string, payload: unknown) => {
      const definition = defined(type);
      if (!definition) throw new InvalidEventError(type, [{ path: "event_type", message: "is not a known event type" }]);
      const result = definition.schema.safeParse(payload);
      if (!result.success) throw new InvalidEventError(type, describeIssues(result.error));
      return result.data as never;
    },
    aggregateOf: (type, payload) => defined(type)!.aggregate(payload),
    publish: async (executor, event) => (await publishEvents(catalog, executor, [event]))[0]!,
    publishMany: (executor, events) => publishEvents(catalog, executor, events),
    publishStatement: (events, options) => publishStatement(catalog, events, options),
  };
  return catalog;
}

function policyFrom(type: string, { priority, retryPriority = priority, ordered = true, policy = {} }: EventDefinition): EventPolicy {
  for (const [name, value] of [["priority", priority], ["retryPriority", retryPriority]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 2_097_152) {
      throw new RangeError(`event type ${type}: ${name} must be an integer from 1 (highest) to 2097152 (BullMQ's range), got ${value}`);
    }
  }
  return { ...defaultPolicy, ...policy, priority, retryPriority, ordered };
}
