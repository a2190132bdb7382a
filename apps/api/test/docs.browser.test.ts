import type { Browser } from "playwright-core";
import { chromiumInstalled, launchChromium } from "./browser.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./helpers.ts";


describe("the API reference in a real browser", () => {
  let api: ApiHarness;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    api = await startApi({ queues: true });
    baseUrl = await api.app.listen({ host: "127.0.0.1", port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it("renders every operation at /docs with no credentials, loading nothing from another origin", async () => {
    expect(chromiumInstalled(), "Debian's chromium is installed (.ci/run installs it)").toBe(true);
    const page = await browser.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("pageerror", (error) => errors.push(error.message));
    const response = await page.goto(`${baseUrl}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator(".opblock").first().waitFor({ timeout: 15_000 });
    expect(await page.locator(".opblock").count()).toBeGreaterThanOrEqual(20);
    await expect.poll(() => page.locator(".opblock-summary-path", { hasText: "/api/orders" }).count()).toBeGreaterThan(0);

    // The order body, as a reader finds it: open POST /api/orders and read its schema.
    await page.locator("#operations-orders-post_api_orders .opblock-summary").click();
    await page.getByRole("button", { name: "Schema" }).first().click();
    await expect.poll(async () => page.locator("#operations-orders-post_api_orders").innerText()).toContain("shippingAddress");

    const foreign = requested.filter((url) => !url.startsWith(baseUrl) && !url.startsWith("data:") && !url.startsWith("blob:"));
    expect(foreign, "requests to another origin").toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
