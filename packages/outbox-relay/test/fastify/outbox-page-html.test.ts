import { describe, expect, it } from "vitest";
import { href, html } from "../../src/fastify/outbox-page/html.ts";

describe("the outbox page's HTML template", () => {
  it("escapes every interpolated value, in text and in attributes, and keeps built fragments", () => {
    const hostile = `"><script>alert('x')</script>&`;
    const inner = html`<b>${hostile}</b>`;
    const page = html`<a title="${hostile}" href="${href("/admin/outbox", { aggregateId: hostile, type: "" })}">${inner}</a>${[html`<i>1</i>`, "<2>"]}${null}${undefined}${false}`;
    expect(page.text).toBe(
      `<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;" href="/admin/outbox?aggregateId=%22%3E%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E%26">` +
        `<b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b></a><i>1</i>&lt;2&gt;`,
    );
  });
});
