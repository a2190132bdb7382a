import { isIP } from "node:net";
import { isStorableText } from "../events/index.ts";
import { refusedLiteral } from "./address-guard.ts";
import { InvalidEndpointError, type FieldIssue } from "./errors.ts";
import { parseRetrySchedule, retryScheduleProblem, type RetrySchedule } from "./retry-schedule.ts";

/** The filter that subscribes an endpoint to every event type. */
export const allEvents = "*";
const maxUrlLength = 2048;
const maxTypeLength = 200;
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
  if (url.protocol === "http:" && !allowPrivateNetworks) return issue("must use https (http is allowed only where private networks are)");
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

/** Whether one item of an event filter names a type endpoints may subscribe to (any name, without a list). */
function isEventFilter(item: unknown, eventTypes: readonly string[] | undefined): boolean {
  if (typeof item !== "string") return false;
  if (item === allEvents) return true;
  return eventTypes ? eventTypes.includes(item) : item.length > 0 && item.length <= maxTypeLength && isStorableText(item);
}

/**
 * The event filter: a non-empty list of event types, or `"*"` for all. With `eventTypes`, only
 * those (each issue names them); without, any name of up to 200 characters.
 */
export function eventsIssues(value: unknown, eventTypes?: readonly string[]): FieldIssue[] {
  const listed = eventTypes ? ` (${eventTypes.join(", ")})` : "";
  if (!Array.isArray(value) || value.length === 0) return [{ path: "events", message: `must be a non-empty array of event types${listed} or "${allEvents}"` }];
  const one = eventTypes ? `one of ${eventTypes.join(", ")}` : `an event type of 1 to ${maxTypeLength} characters`;
  return value.flatMap((item: unknown, index): FieldIssue[] => (isEventFilter(item, eventTypes) ? [] : [{ path: `events.${index}`, message: `must be ${one} or "${allEvents}"` }]));
}

/** An endpoint's own retry schedule: absent or null (the service's), or a schedule string within the limits. */
export function retryScheduleIssues(value: unknown): FieldIssue[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "string") return [{ path: "retrySchedule", message: "must be a string of waits such as 0,1m,10m,1h,6h, or null" }];
  const problem = retryScheduleProblem(value);
  return problem ? [{ path: "retrySchedule", message: problem }] : [];
}

/** The endpoint's own schedule in ms, or null for the service's; throws InvalidEndpointError. */
export function parseRetryScheduleInput(value: unknown): RetrySchedule | null {
  const issues = retryScheduleIssues(value);
  if (issues.length > 0) throw new InvalidEndpointError(issues);
  return typeof value === "string" ? parseRetrySchedule(value) : null;
}

/** Validates and normalises `{url, events, retrySchedule?}`; throws InvalidEndpointError with every field issue. */
export function parseEndpointInput(
  input: { url: unknown; events: unknown; retrySchedule?: unknown },
  { allowPrivateNetworks, eventTypes }: { allowPrivateNetworks: boolean; eventTypes?: readonly string[] | undefined },
): { url: string; events: string[]; retrySchedule: RetrySchedule | null } {
  const issues = [...urlIssues(input.url, allowPrivateNetworks), ...eventsIssues(input.events, eventTypes), ...retryScheduleIssues(input.retrySchedule)];
  if (issues.length > 0) throw new InvalidEndpointError(issues);
  const events = [...new Set(input.events as string[])];
  return {
    url: new URL(input.url as string).toString(),
    events: events.includes(allEvents) ? [allEvents] : events,
    retrySchedule: parseRetryScheduleInput(input.retrySchedule),
  };
}

/** Whether an endpoint's filter asks for an event type. */
export function subscribes(filter: readonly string[], type: string): boolean {
  return filter.includes(allEvents) || filter.includes(type);
}
