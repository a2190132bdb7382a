import { html, Html } from "./html.ts";

export const outboxPath = "/admin/outbox";
/** Bull Board (bull-board.ts mounts it there). */
export const boardPath = "/admin/queues";
export const heldPath = `${outboxPath}/held`;
export const replayPath = `${outboxPath}/replay`;
export const eventPath = (id: string) => `${outboxPath}/events/${encodeURIComponent(id)}`;
export const jobPath = (queue: string, id: string) => `${boardPath}/queue/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`;

/** Headers of every HTML answer: no script may run (a payload is tenant data), no other site may frame or post to it. */
export const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff}header strong{margin-right:16px}
main{padding:16px}
.truth{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;margin-bottom:12px}
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:8px 12px;margin-bottom:12px}
.problem{background:#ffebe9;border:1px solid #ff8182;padding:8px 12px;margin-bottom:12px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
td.error{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
pre{background:#fff;border:1px solid #d0d7de;padding:8px;overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-all}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-bottom:12px}
form.filters label{display:flex;flex-direction:column;font-size:12px}
form.inline{display:inline}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;background:#fff;padding:8px;border:1px solid #d0d7de}
dt{font-weight:600}dd{margin:0}
pre.secret{border:2px solid #4ac26b;font-size:16px}
fieldset{display:flex;flex-wrap:wrap;gap:4px 12px;border:1px solid #d0d7de}
.status-dead{color:#cf222e;font-weight:600}.status-processed{color:#1a7f37}.status-skipped{color:#6e7781}
`;

/**
 * A whole page: its title, the style sheet (inline: the CSP allows inline style, never script), a
 * header bar and the body. The outbox page and the webhook portal share it. `head` goes into
 * <head> (a portal link's refresh to the clean URL).
 */
export function pageShell(title: string, header: Html, body: Html, head: Html = html``): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${new Html(style)}</style>${head}</head>
<body>
<header>${header}</header>
<main>
${body}
</main></body></html>`;
}

/** The page around every view: links to Bull Board and back, and the note on whose truth this is. */
export function layout(title: string, body: Html): Html {
  const header = html`<strong>Outbox admin</strong>
<a href="${outboxPath}">Events</a>
<a href="${heldPath}">Held aggregates</a>
<a href="${replayPath}">Replay</a>
<a href="${boardPath}">Bull Board (Redis)</a>`;
  return pageShell(`${title} · outbox`, header, html`<p class="truth"><strong>This page reads Postgres, the source of truth</strong>: every event's row in
<code>event_outbox</code>, whatever Redis holds. Bull Board shows Redis's work buffer: a dead event appears
there twice (failed in its queue, and in dead-letter), and its clean, delete and edit buttons change only the
Redis job, never the row (a dead row stays dead and keeps holding its aggregate; an edited job's data is not the
row's payload). Retry, skip and replay here change the row, as <code>outbox-relay dlq …</code> does.</p>
${body}`);
}

export function statusCell(status: string): Html {
  return html`<span class="status-${status}">${status}</span>`;
}
