import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import type { EventCatalog } from "../events/index.ts";

/** The help text, for the program name the user typed (`outbox-relay`, `pnpm outbox`). */
export function usage(program: string): string {
  return `Usage: ${program} <command> [options]

Commands:
  stats                          outbox counts by status (~: estimated), lag, held events and
                                 aggregates, queue counts, DLQ size
  dlq list [--type T] [--limit N]
                                 dead events: id, type, aggregate, attempts, last error, age
  dlq retry <eventId>            send one dead event back to pending
  dlq retry --all [--type T]     retry every dead event (of one type)
  dlq skip <eventId>             pass over a dead event for good (status skipped)
  replay --type T --since ISO [--until ISO]
                                 publish copies (new id, causation_id = original) of processed
                                 events of type T created in [since, until); handlers run again
  migrate [--database-url URL]   apply the engine's pending migrations, recorded in
                                 outbox_relay_migrations; an outbox made without that record is
                                 recognised, not created again (README: 1. The tables)
  webhooks keys                  how many webhook secrets each encryption key holds (the current
                                 key, each previous one by position and key id) and how many none
  webhooks reencrypt [--dry-run] [--batch-size N]
                                 write every webhook secret under a previous key again under the
                                 current one, in batches; safe to stop and run again
  webhooks resend-all <endpointId> --since ISO [--all] [--dry-run]
                                 send the endpoint's failed deliveries created since then again
                                 (--all: every delivered or failed one), same webhook-id, in each
                                 source's order; --dry-run only counts

Options:
  --json     machine-readable output on stdout (errors as JSON on stderr)
  -h, --help this text

Connection (each overrides its variable):
  --database-url URL             DATABASE_URL: the service's Postgres, with its outbox tables
  --redis-url URL                REDIS_URL
  --redis-cluster-nodes H:P,...  REDIS_CLUSTER_NODES: a Redis Cluster instead
  --queue-prefix P               QUEUE_PREFIX (default outbox): the worker's queuePrefix
  --catalog FILE                 OUTBOX_RELAY_CATALOG: a module exporting the service's catalog
                                 (defineEvents); needed by dlq retry, dlq skip and replay

Encryption keys (webhooks): ENCRYPTION_KEY, the current key; ENCRYPTION_KEY_PREVIOUS, the keys
secrets may still be under (comma-separated).

Exit codes: 0 ok, 1 the operation failed (unknown id, not dead, invalid payload, store
unreachable, no encryption key), 2 bad arguments. migrate and webhooks need only the database.`;
}

export type Command =
  | { name: "help" }
  | { name: "stats" }
  | { name: "dlq list"; type?: string; limit?: number }
  | { name: "dlq retry"; eventId: string }
  | { name: "dlq retry all"; type?: string }
  | { name: "dlq skip"; eventId: string }
  | { name: "replay"; type: string; since: Date; until?: Date }
  | { name: "migrate" }
  | { name: "webhooks keys" }
  | { name: "webhooks reencrypt"; dryRun: boolean; batchSize?: number }
  | { name: "webhooks resend-all"; endpointId: string; since: Date; onlyFailed: boolean; dryRun: boolean };

export interface ParsedCommandLine {
  command: Command;
  json: boolean;
  connection: ConnectionFlags;
}

const optionSpec = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  all: { type: "boolean" },
  type: { type: "string" },
  limit: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "dry-run": { type: "boolean" },
  "batch-size": { type: "string" },
  "database-url": { type: "string" },
  "redis-url": { type: "string" },
  "redis-cluster-nodes": { type: "string" },
  "queue-prefix": { type: "string" },
  catalog: { type: "string" },
} as const;

const connectionOptions = ["database-url", "redis-url", "redis-cluster-nodes", "queue-prefix", "catalog"] as const;

/** Where the command connects, from the flags; unset ones come from the environment. */
export type ConnectionFlags = Partial<Record<(typeof connectionOptions)[number], string>>;

type Values = { [K in keyof typeof optionSpec]?: (typeof optionSpec)[K]["type"] extends "boolean" ? boolean : string };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function only(values: Values, command: string, allowed: (keyof Values)[]): void {
  for (const key of Object.keys(values) as (keyof Values)[]) {
    if (key === "json" || key === "help" || (connectionOptions as readonly string[]).includes(key) || allowed.includes(key)) continue;
    throw new UsageError(`option --${key} does not apply to "${command}"`);
  }
}

function eventIdArgument(positionals: string[], command: string): string {
  const [eventId, extra] = positionals;
  if (!eventId) throw new UsageError(`"${command}" needs an event id`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (!uuidPattern.test(eventId)) throw new UsageError(`event id "${eventId}" is not a UUID`);
  return eventId;
}

/** Refuses a `--type` the service's catalog does not know. */
export function checkEventType(command: Command, catalog: EventCatalog): void {
  const type = "type" in command ? command.type : undefined;
  const known: readonly string[] = catalog.types;
  if (type !== undefined && !known.includes(type)) throw new UsageError(`--type: unknown event type "${type}" (known: ${known.join(", ")})`);
}

function isoDate(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${option}: "${value}" is not an ISO-8601 date or date-time (e.g. 2026-03-14T00:00:00Z)`);
  }
  return date;
}

function positiveInteger(value: string, option: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new UsageError(`${option}: "${value}" is not a positive whole number`);
  return Number(value);
}

/** Parses argv (after the program name). Throws UsageError naming what is wrong. */
export function parseCommandLine(argv: string[]): ParsedCommandLine {
  let parsed: { values: Values; positionals: string[] };
  try {
    const result = parseArgs({ args: argv, options: optionSpec, allowPositionals: true, strict: true });
    parsed = { values: result.values, positionals: result.positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  const connection = Object.fromEntries(connectionOptions.flatMap((key) => (values[key] === undefined ? [] : [[key, values[key]]]))) as ConnectionFlags;
  const databaseUrl = connection["database-url"];
  if (databaseUrl !== undefined && !(URL.canParse(databaseUrl) && ["postgres:", "postgresql:"].includes(new URL(databaseUrl).protocol))) {
    throw new UsageError("--database-url: not a postgresql:// URL");
  }
  if (values.help) return { command: { name: "help" }, json, connection };
  const [group, ...rest] = positionals;
  if (group === undefined) throw new UsageError("no command given");
  if (group === "help") return { command: { name: "help" }, json, connection };
  if (group === "stats") {
    only(values, "stats", []);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return { command: { name: "stats" }, json, connection };
  }
  if (group === "replay") return { command: parseReplay(values, rest), json, connection };
  if (group === "dlq") return { command: parseDlq(values, rest), json, connection };
  if (group === "migrate") return { command: parseMigrate(values, rest), json, connection };
  if (group === "webhooks") return { command: parseWebhooks(values, rest), json, connection };
  throw new UsageError(`unknown command "${group}"`);
}

function parseDlq(values: Values, [sub, ...rest]: string[]): Command {
  if (sub === "list") {
    only(values, "dlq list", ["type", "limit"]);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return {
      name: "dlq list",
      ...(values.type ? { type: values.type } : {}),
      ...(values.limit ? { limit: positiveInteger(values.limit, "--limit") } : {}),
    };
  }
  if (sub === "retry") {
    only(values, "dlq retry", ["all", "type"]);
    if (values.all) {
      if (rest.length) throw new UsageError("give either an event id or --all, not both");
      return { name: "dlq retry all", ...(values.type ? { type: values.type } : {}) };
    }
    if (values.type) throw new UsageError("--type applies only with --all");
    if (rest.length === 0) throw new UsageError('"dlq retry" needs an event id or --all');
    return { name: "dlq retry", eventId: eventIdArgument(rest, "dlq retry") };
  }
  if (sub === "skip") {
    only(values, "dlq skip", []);
    return { name: "dlq skip", eventId: eventIdArgument(rest, "dlq skip") };
  }
  throw new UsageError(sub === undefined ? '"dlq" needs a subcommand: list, retry or skip' : `unknown dlq subcommand "${sub}"`);
}

function parseReplay(values: Values, rest: string[]): Command {
  only(values, "replay", ["type", "since", "until"]);
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (!values.type) throw new UsageError("replay needs --type");
  if (!values.since) throw new UsageError("replay needs --since");
  const since = isoDate(values.since, "--since");
  const until = values.until ? isoDate(values.until, "--until") : undefined;
  if (until && until <= since) throw new UsageError("--until must be later than --since");
  return { name: "replay", type: values.type, since, ...(until ? { until } : {}) };
}

function parseMigrate(values: Values, rest: string[]): Command {
  only(values, "migrate", []);
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return { name: "migrate" };
}

function parseWebhooks(values: Values, [sub, ...rest]: string[]): Command {
  if (sub === "keys") {
    only(values, "webhooks keys", []);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return { name: "webhooks keys" };
  }
  if (sub === "reencrypt") {
    only(values, "webhooks reencrypt", ["dry-run", "batch-size"]);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return {
      name: "webhooks reencrypt",
      dryRun: values["dry-run"] === true,
      ...(values["batch-size"] ? { batchSize: positiveInteger(values["batch-size"], "--batch-size") } : {}),
    };
  }
  if (sub === "resend-all") {
    only(values, "webhooks resend-all", ["since", "all", "dry-run"]);
    if (!values.since) throw new UsageError("webhooks resend-all needs --since");
    const [endpointId, extra] = rest;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (!endpointId || !uuidPattern.test(endpointId)) throw new UsageError('"webhooks resend-all" needs the endpoint\'s id (a UUID)');
    return { name: "webhooks resend-all", endpointId, since: isoDate(values.since, "--since"), onlyFailed: values.all !== true, dryRun: values["dry-run"] === true };
  }
  throw new UsageError(sub === undefined ? '"webhooks" needs a subcommand: keys, reencrypt or resend-all' : `unknown webhooks subcommand "${sub}"`);
}
