import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { createLogger } from "outbox-relay/logger";
import { createWebhookDeliveryHandler } from "outbox-relay/webhooks";
import { createTestRedis, waitFor, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "@outbox/worker";
import { chromiumInstalled, launchChromium } from "./browser.ts";
import { seedTenant, startApi, workerConfigFor, type ApiHarness } from "./helpers.ts";

/**
 * The tenant's webhook portal in Chromium, end to end: the API on loopback, the real worker
 * delivering to a real receiver on loopback that verifies each signature, and links opened from
 * another site (a page on `localhost`, another site than `127.0.0.1`).
 */
const encryptionKey = "portal-browser-test-encryption-key-32-chars";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 that records every request and answers 200 "ok". */
async function startReceiver() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok <b>received</b>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

/** Another site (`localhost`, not `127.0.0.1`): serves each page it is given, at its own path. */
async function startOtherSite() {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const page = pages.get(req.url ?? "");
    res.writeHead(page ? 200 : 404, { "content-type": "text/html" }).end(page ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    serve(path: string, html: string) {
      pages.set(path, html);
      return `http://localhost:${port}${path}`;
    },
  };
}

const close = (server: Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));

/** Verifies a received message with a secret, as the receiver's Standard Webhooks library does; throws when the signature does not match. */
function verify(secret: string, received: Received): unknown {
  const { headers } = received;
  return new Webhook(secret).verify(received.body, {
    "webhook-id": String(headers["webhook-id"]),
    "webhook-timestamp": String(headers["webhook-timestamp"]),
    "webhook-signature": String(headers["webhook-signature"]),
  });
}

describe("the webhook portal in a real browser", () => {
  let api: ApiHarness;
  let redis: TestRedis;
  let worker: RunningWorker;
  let browser: Browser;
  let baseUrl: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let otherSite: Awaited<ReturnType<typeof startOtherSite>>;

  beforeAll(async () => {
    api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } });
    baseUrl = await api.app.listen({ host: "127.0.0.1", port: 0 });
    redis = createTestRedis();
    const handler = createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, timeoutMs: 5000 });
    worker = await startWorker({ config: workerConfigFor(api, redis), handlers: { WebhookDelivery: handler }, logger: createLogger({ level: "silent" }) });
    receiver = await startReceiver();
    otherSite = await startOtherSite();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await redis?.clean();
    if (receiver) await close(receiver.server);
    if (otherSite) await close(otherSite.server);
    await api?.close();
  });

  async function mintLink(tenant: { tenantId: string; auth: Record<string, string> }): Promise<string> {
    const response = await fetch(`${baseUrl}/api/tenants/${tenant.tenantId}/portal-links`, { method: "POST", headers: tenant.auth });
    expect(response.status).toBe(201);
    return ((await response.json()) as { url: string }).url;
  }

  /** Reloads the endpoint's page until its attempts table has a row matching `where`. */
  async function attemptRow(page: Page, where: string) {
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator(`#attempts tr${where}`).count()) > 0;
      },
      { timeoutMs: 30_000, message: `an attempt row ${where}` },
    );
    return page.locator(`#attempts tr${where}`).first();
  }

  it("a tenant opens a link from another site, adds an endpoint, sends a test message that its receiver verifies, sees the attempt, resends it, rotates the secret and disables", async () => {
    expect(chromiumInstalled(), "Debian's chromium is installed (.ci/run installs it)").toBe(true);
    const tenant = await seedTenant(api.app);
    const link = await mintLink(tenant);
    expect(new URL(link).origin).toBe(baseUrl);

    // The link in an e-mail or a chat: a page of another site links to it.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(otherSite.serve("/mail", `<a href="${link}">Open your webhook portal</a>`));
    await page.getByRole("link", { name: "Open your webhook portal" }).click();
    // The link's page names the tenant and sets nothing until its button is pressed.
    await page.getByText(`webhook portal of tenant ${tenant.tenantId}`).waitFor();
    expect(await context.cookies(baseUrl)).toEqual([]);
    await page.getByRole("button", { name: "Open the portal" }).click();
    await page.getByRole("heading", { name: "Your webhook endpoints" }).waitFor();
    // The token has left the address bar; the session is an HttpOnly cookie scripts cannot read.
    expect(page.url()).toBe(`${baseUrl}/portal`);
    const [cookie] = await context.cookies(`${baseUrl}/portal`);
    expect(cookie).toMatchObject({ name: "outbox_portal_session", httpOnly: true, sameSite: "Strict", path: "/portal" });
    expect(await page.evaluate<string>("document.cookie")).toBe("");
    await page.getByText(tenant.tenantId).first().waitFor();

    // Add an endpoint: its secret is shown once.
    await page.getByLabel("URL").fill(receiver.url);
    await page.getByLabel("order.created").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByText("Copy it now").waitFor();
    const secret = (await page.locator("#secret").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole("link", { name: "Go to the endpoint" }).click();
    expect(await page.locator("#endpoint-state").textContent()).toBe("enabled");
    expect(await page.content()).not.toContain(secret);

    // A test message goes through the worker to the receiver, signed with that secret, and is listed as an attempt.
    await page.getByRole("button", { name: "Send a test message" }).click();
    await page.getByText("A test message is on its way").waitFor();
    await waitFor(async () => receiver.requests.length === 1, { timeoutMs: 30_000, message: "the receiver gets the test message" });
    const message = verify(secret, receiver.requests[0]!) as { type: string; data: { endpointId: string } };
    expect(message.type).toBe("webhook.test");
    const webhookId = String(receiver.requests[0]!.headers["webhook-id"]);
    const row = await attemptRow(page, `[data-webhook-id="${webhookId}"]`);
    expect(await row.locator(".status-code").textContent()).toBe("200");
    expect(await row.textContent()).toContain("webhook.test");
    // The receiver's answer is shown as text, never as markup.
    expect(await row.textContent()).toContain("ok <b>received</b>");
    // Its health counts the attempt: one of one succeeded, the breaker closed, a last success.
    expect(await page.locator("#success-rate").textContent()).toBe("100.0 % of 1");
    expect(await page.locator("#breaker").textContent()).toBe("closed: sending");
    expect(await page.locator("#last-success").textContent()).not.toBe("—");

    // Resend it: the same message (webhook-id) again, a second attempt row.
    await row.getByRole("button", { name: "Resend" }).click();
    await page.getByText("Sent again").waitFor();
    await waitFor(async () => receiver.requests.length === 2, { timeoutMs: 30_000, message: "the receiver gets the resent message" });
    expect(receiver.requests[1]!.headers["webhook-id"]).toBe(webhookId);
    verify(secret, receiver.requests[1]!);
    await waitFor(async () => (await page.reload(), (await page.locator(`#attempts tr[data-webhook-id="${webhookId}"]`).count()) === 2), { timeoutMs: 30_000 });

    // Rotate the secret: a new one, shown once; messages are signed with both while the old one's grace lasts.
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByText("The secret was rotated").waitFor();
    const rotated = (await page.locator("#secret").textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByRole("link", { name: "Go to the endpoint" }).click();
    await page.getByRole("button", { name: "Send a test message" }).click();
    await waitFor(async () => receiver.requests.length === 3, { timeoutMs: 30_000, message: "the receiver gets a message after the rotation" });
    verify(rotated, receiver.requests[2]!);
    verify(secret, receiver.requests[2]!);

    // Disable: the state says so, and no test message can be sent.
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByText("Disabled: no message is sent").waitFor();
    expect(await page.locator("#endpoint-state").textContent()).toBe("disabled");
    expect(await page.locator("#disabled-reason").textContent()).toBe("disabled in the portal");
    expect(await page.getByRole("button", { name: "Send a test message" }).count()).toBe(0);

    // Another site's form cannot enable it again: the browser sends no session cookie (SameSite=Strict) and marks it cross-site.
    const endpointUrl = page.url().split("?")[0]!;
    const forgery = otherSite.serve("/forge", `<form method="post" action="${endpointUrl}/enable"><button>Win a prize</button></form>`);
    const attacker = await context.newPage();
    await attacker.goto(forgery);
    await attacker.getByRole("button", { name: "Win a prize" }).click();
    await attacker.waitForLoadState();
    expect(await attacker.content()).toMatch(/Refused|Portal link needed/);
    await page.reload();
    expect(await page.locator("#endpoint-state").textContent()).toBe("disabled");

    // Signing out ends the session in this browser.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Signed out" }).waitFor();
    await page.goto(`${baseUrl}/portal`);
    await page.getByText("Your portal session has ended").waitFor();
    await context.close();
  });
});
