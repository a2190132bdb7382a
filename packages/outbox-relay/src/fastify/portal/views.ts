import type { AttemptPage, AttemptView, EndpointHealth, EndpointView, FieldIssue, PortalGrant } from "../../webhooks/index.ts";
import { href, html, type Html } from "../outbox-page/html.ts";
import { pageShell } from "../outbox-page/layout.ts";
import type { Banner } from "../outbox-page/views.ts";
import { portalPath } from "./session.ts";

export const endpointPath = (id: string) => `${portalPath}/endpoints/${encodeURIComponent(id)}`;
export const signOutPath = `${portalPath}/sign-out`;

const banner = (message: Banner | undefined) => (message ? html`<p class="${message.kind}">${message.text}</p>` : "");

/** Every portal page: the tenant it acts for, when its session ends, a way out. */
function portalLayout(title: string, grant: PortalGrant | null, body: Html, head?: Html): Html {
  const header = grant
    ? html`<strong>Webhooks</strong><a href="${portalPath}">Endpoints</a>
<span>tenant <code>${grant.tenantId}</code> · session ends ${grant.expiresAt}</span>
<form class="inline" method="post" action="${signOutPath}"><button type="submit">Sign out</button></form>`
    : html`<strong>Webhooks</strong>`;
  return pageShell(`${title} · webhooks`, header, body, head);
}

/** What a link opens: who it is for, and a button that opens that portal (the token goes back in the form, never in a link). */
export function openView(grant: PortalGrant, token: string): Html {
  return portalLayout(
    "Open the portal",
    null,
    html`<h1>Open the webhook portal</h1>
<p>This link opens the webhook portal of tenant <code>${grant.tenantId}</code> until ${grant.expiresAt}.</p>
<form method="post" action="${portalPath}/open"><input type="hidden" name="token" value="${token}"><button type="submit">Open the portal</button></form>`,
  );
}

export function problemView(title: string, text: string, grant: PortalGrant | null): Html {
  return portalLayout(title, grant, html`<h1>${title}</h1><p class="problem">${text}</p>${grant ? html`<p><a href="${portalPath}">Back to your endpoints</a></p>` : ""}`);
}

export function signedOutView(): Html {
  return portalLayout("Signed out", null, html`<h1>Signed out</h1><p>Open a new portal link to come back.</p>`);
}

function state(endpoint: EndpointView): Html {
  return endpoint.enabled ? html`<span class="status-processed">enabled</span>` : html`<span class="status-dead">disabled</span>`;
}

function endpointRows(endpoints: readonly EndpointView[]): Html {
  if (endpoints.length === 0) return html`<p>No endpoints yet: add one below.</p>`;
  return html`<table><thead><tr><th>URL</th><th>events</th><th>state</th><th>failed deliveries in a row</th><th>created</th></tr></thead><tbody>
${endpoints.map(
  (endpoint) => html`<tr data-endpoint-id="${endpoint.id}">
<td><a href="${endpointPath(endpoint.id)}">${endpoint.url}</a></td>
<td>${endpoint.events.join(", ")}</td>
<td>${state(endpoint)}${endpoint.disabledReason ? html` (${endpoint.disabledReason})` : ""}</td>
<td>${endpoint.consecutiveFailures}</td>
<td>${endpoint.createdAt}</td>
</tr>`,
)}</tbody></table>`;
}

export interface AddFormState {
  url?: string;
  events?: readonly string[];
  issues?: readonly FieldIssue[];
}

/** The add form: the event types to tick (and "*", every type), or a text field when any name may be subscribed. */
function addForm(eventTypes: readonly string[] | undefined, values: AddFormState = {}): Html {
  const chosen = new Set(values.events ?? []);
  const checked = (type: string) => (chosen.has(type) ? html` checked` : "");
  const events = eventTypes
    ? html`<fieldset><legend>events</legend>
<label><input type="checkbox" name="events" value="*"${checked("*")}> every type (*)</label>
${eventTypes.map((type) => html`<label><input type="checkbox" name="events" value="${type}"${checked(type)}> ${type}</label>`)}</fieldset>`
    : html`<label>events (comma-separated, or *) <input name="events" value="${[...chosen].join(", ")}"></label>`;
  return html`<h2>Add an endpoint</h2>
${values.issues?.length ? html`<ul class="problem">${values.issues.map((issue) => html`<li>${issue.path} ${issue.message}</li>`)}</ul>` : ""}
<form class="filters" method="post" action="${portalPath}/endpoints">
<label>URL <input name="url" type="url" size="60" required value="${values.url ?? ""}"></label>
${events}
<button type="submit">Add endpoint</button></form>`;
}

/** The tenant's endpoints, and the form that adds one. */
export function endpointsView(grant: PortalGrant, endpoints: readonly EndpointView[], eventTypes: readonly string[] | undefined, message?: Banner, form?: AddFormState): Html {
  return portalLayout(
    "Endpoints",
    grant,
    html`${banner(message)}<h1>Your webhook endpoints</h1>
<p>Each endpoint receives the events it subscribes to as signed HTTP POSTs
(<a href="https://www.standardwebhooks.com">Standard Webhooks</a>). Open one to see its delivery attempts, send it a test message,
resend a message, rotate its secret, or disable it.</p>
${endpointRows(endpoints)}
${addForm(eventTypes, form)}`,
  );
}

/** A signing secret, shown once: after a new endpoint or a rotation. */
export function secretView(grant: PortalGrant, endpoint: EndpointView, secret: string, rotated: boolean): Html {
  return portalLayout(
    rotated ? "Secret rotated" : "Endpoint added",
    grant,
    html`<p class="notice">${rotated ? "The secret was rotated. The previous secret keeps signing beside the new one until " : "The endpoint was added."}${rotated && endpoint.previousSecretExpiresAt ? html`${endpoint.previousSecretExpiresAt}, so your receiver can switch without a failed delivery.` : ""}</p>
<h1>Signing secret of <code>${endpoint.url}</code></h1>
<p><strong>Copy it now: it is shown this once and cannot be read again</strong> (it is stored encrypted). Your receiver verifies
each message's <code>webhook-signature</code> with it.</p>
<pre class="secret" id="secret">${secret}</pre>
<p><a href="${endpointPath(endpoint.id)}">Go to the endpoint</a> · <a href="${portalPath}">All endpoints</a></p>`,
  );
}

/**
 * The endpoint's health as it is known today: enabled or not, why, and its streak of failed
 * deliveries. Success rate, latency percentiles, the circuit breaker's state and the last
 * success and failure belong in this section too, as <dt>/<dd> pairs, when the engine reports them.
 */
const breakerStates = { closed: "closed: sending", open: "open: nothing is sent until", "half-open": "half-open: the next message is a probe" } as const;

function healthView(endpoint: EndpointView & { health: EndpointHealth }): Html {
  const { breaker, failingSince, lastSuccessAt, lastFailureAt, recent } = endpoint.health;
  const rate = recent.successRate === null ? "no attempts" : `${(recent.successRate * 100).toFixed(1)} % of ${recent.attempts}`;
  const latency = recent.latencyP50Ms === null ? "—" : `${recent.latencyP50Ms} ms / ${recent.latencyP99Ms} ms`;
  return html`<section id="health"><h2>Health</h2>
<dl>
<dt>state</dt><dd id="endpoint-state">${state(endpoint)}</dd>
<dt>disabled because</dt><dd id="disabled-reason">${endpoint.disabledReason ?? "—"}</dd>
<dt>failed attempts in a row</dt><dd id="consecutive-failures">${endpoint.consecutiveFailures}</dd>
<dt>failing since</dt><dd id="failing-since">${failingSince ?? "—"}</dd>
<dt>circuit breaker</dt><dd id="breaker">${breakerStates[breaker.state]}${breaker.state === "open" ? html` ${breaker.openUntil}` : ""}</dd>
<dt>succeeded, last 24 hours</dt><dd id="success-rate">${rate}</dd>
<dt>response time p50 / p99</dt><dd id="latency">${latency}</dd>
<dt>last success</dt><dd id="last-success">${lastSuccessAt ?? "—"}</dd>
<dt>last failure</dt><dd id="last-failure">${lastFailureAt ?? "—"}</dd>
<dt>retry schedule</dt><dd id="retry-schedule">${endpoint.retrySchedule ?? "the service's"}</dd>
</dl></section>`;
}

function actions(endpoint: EndpointView): Html {
  const at = endpointPath(endpoint.id);
  const toggle = endpoint.enabled
    ? html`<form class="inline" method="post" action="${at}/disable"><input type="hidden" name="reason" value="disabled in the portal"><button type="submit">Disable</button></form>`
    : html`<form class="inline" method="post" action="${at}/enable"><button type="submit">Enable</button></form>`;
  return html`<h2>Actions</h2>
<div>${endpoint.enabled ? html`<form class="inline" method="post" action="${at}/test"><button type="submit">Send a test message</button></form>` : ""}
<form class="inline" method="post" action="${at}/rotate-secret"><button type="submit">Rotate secret</button></form>
${toggle}</div>
<p>A test message has type <code>webhook.test</code> and goes out like any other: signed, retried, listed below.</p>`;
}

/** The first characters of a response body, for its table cell; the whole kept body opens below it. */
const excerptLength = 120;

function responseCell(body: string | null): Html {
  if (!body) return html``;
  if (body.length <= excerptLength) return html`<code>${body}</code>`;
  return html`<details><summary><code>${body.slice(0, excerptLength)}…</code></summary><pre>${body}</pre></details>`;
}

function attemptRows(endpoint: EndpointView, attempts: readonly AttemptView[], types: ReadonlyMap<string, string>): Html {
  if (attempts.length === 0) return html`<p>No attempts yet.</p>`;
  return html`<table id="attempts"><thead><tr><th>time</th><th>type</th><th>webhook-id</th><th>attempt</th><th>status</th><th>duration</th><th>error</th><th>response body</th><th></th></tr></thead><tbody>
${attempts.map(
  (attempt) => html`<tr data-attempt-id="${attempt.id}" data-webhook-id="${attempt.webhookId}">
<td>${attempt.createdAt}</td>
<td>${types.get(attempt.eventId) ?? "—"}</td>
<td><code>${attempt.webhookId}</code>${attempt.eventId === attempt.webhookId ? "" : html`<br><small>delivery <code>${attempt.eventId}</code></small>`}</td>
<td>${attempt.attempt}</td>
<td class="status-code">${attempt.statusCode ?? "no answer"}</td>
<td>${attempt.durationMs} ms</td>
<td class="error" title="${attempt.error ?? ""}">${attempt.error ?? ""}</td>
<td>${responseCell(attempt.responseBody)}</td>
<td>${endpoint.enabled ? html`<form class="inline" method="post" action="${endpointPath(endpoint.id)}/resend"><input type="hidden" name="eventId" value="${attempt.webhookId}"><button type="submit">Resend</button></form>` : ""}</td>
</tr>`,
)}</tbody></table>`;
}

/** One endpoint: its settings, health, actions, and its attempts newest first (keyset pages). */
export function endpointView(grant: PortalGrant, endpoint: EndpointView & { health: EndpointHealth }, page: AttemptPage, types: ReadonlyMap<string, string>, limit: number, message?: Banner): Html {
  const older = page.nextBefore ? href(endpointPath(endpoint.id), { before: page.nextBefore, limit: String(limit) }) : undefined;
  return portalLayout(
    "Endpoint",
    grant,
    html`${banner(message)}<h1>Endpoint <code>${endpoint.url}</code></h1>
<dl>
<dt>id</dt><dd><code>${endpoint.id}</code></dd>
<dt>events</dt><dd>${endpoint.events.join(", ")}</dd>
<dt>created</dt><dd>${endpoint.createdAt}</dd>
<dt>previous secret signs until</dt><dd>${endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date() ? endpoint.previousSecretExpiresAt : "—"}</dd>
</dl>
${healthView(endpoint)}
${actions(endpoint)}
<h2>Delivery attempts</h2>
<p>Every HTTP attempt, newest first: the message (its <code>webhook-id</code>, the same on every retry and resend), the attempt's
number, your server's status code and the start of its answer, and how long it took. Resend sends a message again.</p>
${attemptRows(endpoint, page.attempts, types)}
<p>${older ? html`<a rel="next" href="${older}">Older attempts →</a>` : "End of the list."}</p>`,
  );
}
