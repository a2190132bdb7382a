import type { ReplayResult } from "../../admin/index.ts";
import type { EventCatalog } from "../../events/index.ts";
import { queueOf } from "../../queues/index.ts";
import type { EventState } from "../../stats/index.ts";
import { href, html, type Html } from "./html.ts";
import { eventPath, heldPath, jobPath, layout, outboxPath, replayPath, statusCell } from "./layout.ts";
import { heldCountLimit, listableStatuses, type EventFilters, type EventPage, type EventSummary, type HeldAggregate, type Holder } from "./queries.ts";

/** A message above a view: what an action did, or why it was refused. */
export interface Banner {
  kind: "notice" | "problem";
  text: string;
}

const banner = (message: Banner | undefined) => (message ? html`<p class="${message.kind}">${message.text}</p>` : "");

const filterLink = (text: string, filters: EventFilters) => html`<a href="${href(outboxPath, { ...filters })}">${text}</a>`;

function eventRows(events: readonly EventSummary[]): Html {
  if (events.length === 0) return html`<p>No events.</p>`;
  return html`<table>
<thead><tr><th>created</th><th>event</th><th>type</th><th>status</th><th>attempts</th><th>aggregate</th><th>tenant</th><th>last error</th></tr></thead>
<tbody>${events.map(
    (event) => html`<tr data-event-id="${event.id}">
<td>${event.createdAt}</td>
<td><a href="${eventPath(event.id)}">${event.id}</a></td>
<td>${filterLink(event.type, { type: event.type })}</td>
<td>${statusCell(event.status)}</td>
<td>${event.attempts}</td>
<td>${filterLink(`${event.aggregateType} ${event.aggregateId}`, { aggregateType: event.aggregateType, aggregateId: event.aggregateId })}</td>
<td>${event.tenantId ? filterLink(event.tenantId, { tenantId: event.tenantId }) : ""}</td>
<td class="error" title="${event.lastError ?? ""}">${event.lastError ?? ""}</td>
</tr>`,
  )}</tbody></table>`;
}

/** The replay form's fields, as typed (or filled in from an event). */
type ReplayValues = { type?: string | undefined; since?: string | undefined; until?: string | undefined };

const selected = (on: boolean) => (on ? html` selected` : "");

/** The events page: filters, one page newest first, and the link to the next (older) page. */
export function listView(catalog: EventCatalog, filters: EventFilters, page: EventPage, limit: number): Html {
  const next = page.next ? href(outboxPath, { ...filters, before: page.next, limit: String(limit) }) : undefined;
  return layout(
    "Events",
    html`<h1>Events</h1>
<form class="filters" method="get" action="${outboxPath}">
<label>status <select name="status"><option value="">any</option>${listableStatuses.map((status) => html`<option${selected(filters.status === status)}>${status}</option>`)}</select></label>
<label>type <input name="type" list="event-types" value="${filters.type ?? ""}"></label>
<datalist id="event-types">${catalog.types.map((type) => html`<option value="${type}">`)}</datalist>
<label>aggregate type <input name="aggregateType" value="${filters.aggregateType ?? ""}"></label>
<label>aggregate id <input name="aggregateId" value="${filters.aggregateId ?? ""}"></label>
<label>tenant <input name="tenantId" value="${filters.tenantId ?? ""}"></label>
${filters.causedBy ? html`<input type="hidden" name="causedBy" value="${filters.causedBy}">` : ""}
<button type="submit">Filter</button> <a href="${outboxPath}">clear</a>
</form>
${filters.causedBy ? html`<p>Events caused by <a href="${eventPath(filters.causedBy)}">${filters.causedBy}</a>.</p>` : ""}
<p>Newest first. <code>pending</code> rows read <code>dispatched</code> once the relay has queued their job.</p>
${eventRows(page.events)}
<p>${next ? html`<a rel="next" href="${next}">Older events →</a>` : "End of the list."}</p>`,
  );
}

function actions(types: readonly string[], event: EventState): Html {
  if (event.status === "dead") {
    return html`<h2>Dead-letter</h2>
<p>Retry sends the row back to <code>pending</code> with its attempts reset and queues its job; skip passes over it for
good (<code>skipped</code>) and releases the next event of its aggregate.</p>
<form class="inline" method="post" action="${eventPath(event.id)}/retry"><button type="submit">Retry</button></form>
<form class="inline" method="post" action="${eventPath(event.id)}/skip"><button type="submit">Skip</button></form>`;
  }
  if (event.status !== "processed") return html``;
  const since = new Date(event.createdAt.getTime());
  const until = new Date(since.getTime() + 1);
  return html`<h2>Replay</h2>
<p>Replay publishes a copy (a new event, caused by the original) of every processed <code>${event.type}</code> event created
in a window; this one's millisecond is filled in (other events of the same type created in that millisecond are copied too).</p>
${replayForm(types, { type: event.type, since: since.toISOString(), until: until.toISOString() })}`;
}

function replayForm(types: readonly string[], values: ReplayValues): Html {
  return html`<form class="filters" method="post" action="${replayPath}">
<label>type <select name="type">${types.map((type) => html`<option${selected(values.type === type)}>${type}</option>`)}</select></label>
<label>since (ISO-8601, inclusive) <input name="since" required value="${values.since ?? ""}"></label>
<label>until (exclusive; empty: now) <input name="until" value="${values.until ?? ""}"></label>
<button type="submit">Replay</button></form>`;
}

/** One event: its row, payload, what holds it, the events it caused, and the actions its status allows. */
export function eventView(catalog: EventCatalog, event: EventState, caused: EventPage, holder: Holder | undefined, jobId: string, message?: Banner): Html {
  const queue = queueOf(catalog, event.type);
  return layout(
    `Event ${event.id}`,
    html`${banner(message)}<h1>Event <code>${event.id}</code></h1>
<dl>
<dt>type</dt><dd>${filterLink(event.type, { type: event.type })}</dd>
<dt>status</dt><dd id="event-status">${statusCell(event.status)}</dd>
<dt>attempts</dt><dd>${event.attempts}</dd>
<dt>aggregate</dt><dd>${filterLink(`${event.aggregateType} ${event.aggregateId}`, { aggregateType: event.aggregateType, aggregateId: event.aggregateId })}</dd>
<dt>tenant</dt><dd>${event.tenantId ? filterLink(event.tenantId, { tenantId: event.tenantId }) : "none"}</dd>
<dt>caused by</dt><dd>${event.causationId ? html`<a href="${eventPath(event.causationId)}">${event.causationId}</a>` : "none (published by a producer)"}</dd>
<dt>created</dt><dd>${event.createdAt}</dd>
<dt>available</dt><dd>${event.availableAt}</dd>
<dt>processed</dt><dd>${event.processedAt ?? ""}</dd>
<dt>held by</dt><dd>${holder ? html`<a href="${eventPath(holder.id)}">${holder.id}</a> (${holder.type}, ${holder.status}), earlier in its aggregate` : "nothing"}</dd>
<dt>Redis</dt><dd><a href="${jobPath(queue, jobId)}">${jobId === event.id ? "its job" : "the batch job it travels in"} in Bull Board</a> (queue ${queue}; gone once retention trims it)</dd>
</dl>
<h2>Last error</h2>
${event.lastError ? html`<pre id="last-error">${event.lastError}</pre>` : html`<p>none</p>`}
<h2>Payload</h2>
<pre id="payload">${JSON.stringify(event.payload, null, 2)}</pre>
${actions(catalog.types, event)}
<h2>Events it caused</h2>
${eventRows(caused.events)}
${caused.next ? html`<p><a href="${href(outboxPath, { causedBy: event.id })}">All the events it caused →</a></p>` : ""}`,
  );
}

/** The aggregates a dead event holds back, and the event that holds each. */
export function heldView(rows: readonly HeldAggregate[], limit: number, message?: Banner): Html {
  return layout(
    "Held aggregates",
    html`${banner(message)}<h1>Held aggregates</h1>
<p>A dead event holds back the later events of its aggregate until it is retried or skipped. Oldest first${rows.length === limit ? html`; the first ${limit} shown` : ""}.</p>
${
  rows.length === 0
    ? html`<p>No aggregate is held.</p>`
    : html`<table><thead><tr><th>aggregate</th><th>tenant</th><th>held events</th><th>held by (dead)</th><th>type</th><th>dead since</th><th>last error</th><th></th></tr></thead><tbody>
${rows.map(
  (row) => html`<tr>
<td>${filterLink(`${row.aggregateType} ${row.aggregateId}`, { aggregateType: row.aggregateType, aggregateId: row.aggregateId })}</td>
<td>${row.tenantId ?? ""}</td>
<td>${row.heldEvents >= heldCountLimit ? `${heldCountLimit}+` : row.heldEvents}</td>
<td><a href="${eventPath(row.deadId)}">${row.deadId}</a></td>
<td>${row.deadType}</td>
<td>${row.deadSince}</td>
<td class="error" title="${row.lastError ?? ""}">${row.lastError ?? ""}</td>
<td><form class="inline" method="post" action="${eventPath(row.deadId)}/retry"><input type="hidden" name="back" value="held"><button type="submit">Retry</button></form>
<form class="inline" method="post" action="${eventPath(row.deadId)}/skip"><input type="hidden" name="back" value="held"><button type="submit">Skip</button></form></td>
</tr>`,
)}</tbody></table>`
}`,
  );
}

/** A replay can copy thousands of events: the page lists this many of them. */
const replayRowsShown = 200;

/** The replay form, and what the last replay published. */
export function replayView(catalog: EventCatalog, values: ReplayValues, result?: ReplayResult, message?: Banner): Html {
  return layout(
    "Replay",
    html`${banner(message)}<h1>Replay</h1>
<p>Publishes a copy of every <strong>processed</strong> event of a type created in [since, until): new events, each caused by
its original, whose handlers run again. Payloads are checked against today's schema first; if one fails, nothing is published.</p>
${replayForm(catalog.types, values)}
${
  result
    ? html`<h2>Replayed ${result.replayed.length} ${result.type} events (${result.since} to ${result.until})</h2>
<table><thead><tr><th>original</th><th>copy</th></tr></thead><tbody>${result.replayed.slice(0, replayRowsShown).map(
        (copy) => html`<tr><td><a href="${eventPath(copy.originalId)}">${copy.originalId}</a></td><td><a href="${eventPath(copy.copyId)}">${copy.copyId}</a></td></tr>`,
      )}</tbody></table>
${result.replayed.length > replayRowsShown ? html`<p>The first ${replayRowsShown} shown; every copy is caused by its original (filter the events by type).</p>` : ""}`
    : ""
}`,
  );
}

/** A page for a refused request (an unknown event, an invalid filter). */
export function problemView(title: string, text: string): Html {
  return layout(title, html`<p class="problem">${text}</p><p><a href="${outboxPath}">Back to the events</a> · <a href="${heldPath}">held aggregates</a></p>`);
}
