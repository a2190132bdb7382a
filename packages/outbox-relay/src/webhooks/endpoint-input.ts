import { isIP } from "node:net";
import { webhookTypes, type WebhookType } from "@outbox/domain";
import { refusedLiteral } from "./address-guard.ts";
import { InvalidEndpointError, type FieldIssue } from "./errors.ts";

export const allEvents = "*";
export type EventFilter = WebhookType | typeof allEvents;
const maxUrlLength = 2048;
/** Names that never leave this machine or the local network (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal). */
const localSuffixes = ["localhost", "local", "internal", "home.arpa"];

/**
 * Registration-time checks of an endpoint URL. https is required; plain http is accepted only when
 * private networks are allowed (local development and tests, where receivers are on loopback).
 * Credentials, fragments and IP literals in refused ranges (or IPv6 forms carrying IPv4) are rejected
 * here, and so are names for this machine or the local network (`localhost`, `*.localhost`, `*.local`,
 * `*.internal`, `*.home.arpa`, single labels), with or without trailing dots; hostnames are checked
 * again, against the addresses they resolve to, on every delivery.
 */
export function urlIssues(value: unknown, allowPrivateNetworks: boolean): FieldIssue[] {
  const issue = (message: string): FieldIssue[] => [{ path: "url", message }];
  if (typeof value !== "string" || value.trim() === "") return issue("is required and must be a string");
  if (value.length > maxUrlLength) return issue(`must be at most ${maxUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return issue("must be an absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return issue("must use https");
  if (url.protocol === "http:" && !allowPrivateNetworks) return issue("must use https (http is allowed only when WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)");
  if (url.username || url.password) return issue("must not contain credentials");
  if (url.hash) return issue("must not contain a fragment");
  if (allowPrivateNetworks) return [];
  // `localhost.` is `localhost`: a trailing dot only marks the name as absolute.
  const host = url.hostname.replace(/^\[|\]$/g, "").replace(/\.+$/, "").toLowerCase();
  if (isIP(host)) {
    const range = refusedLiteral(host);
    if (range) return issue(`must not point at a ${range} address`);
  } else if (!host.includes(".") || localSuffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) {
    return issue("must name a public host");
  }
  return [];
}

/** The event filter: a non-empty list of webhook types, or `"*"` for all. */
export function eventsIssues(value: unknown): FieldIssue[] {
  if (!Array.isArray(value) || value.length === 0) {
    return [{ path: "events", message: `must be a non-empty array of event types (${webhookTypes.join(", ")}) or "${allEvents}"` }];
  }
  const known = new Set<string>([...webhookTypes, allEvents]);
  return value.flatMap((item: unknown, index): FieldIssue[] =>
    typeof item === "string" && known.has(item)
      ? []
      : [{ path: `events.${index}`, message: `must be one of ${webhookTypes.join(", ")} or "${allEvents}"` }],
  );
}

/** Validates and normalises `{url, events}`; throws InvalidEndpointError with every field issue. */
export function parseEndpointInput(input: { url: unknown; events: unknown }, allowPrivateNetworks: boolean): { url: string; events: EventFilter[] } {
  const issues = [...urlIssues(input.url, allowPrivateNetworks), ...eventsIssues(input.events)];
  if (issues.length > 0) throw new InvalidEndpointError(issues);
  const events = [...new Set(input.events as EventFilter[])];
  return { url: new URL(input.url as string).toString(), events: events.includes(allEvents) ? [allEvents] : events };
}

/** Whether an endpoint's filter asks for a webhook type. */
export function subscribes(filter: readonly string[], type: WebhookType): boolean {
  return filter.includes(allEvents) || filter.includes(type);
}
