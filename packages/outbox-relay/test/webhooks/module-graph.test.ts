import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importFailure, prismaModules } from "@outbox/testing";

const webhooks = fileURLToPath(new URL("../../src/webhooks/index.ts", import.meta.url));

describe("outbox-relay/webhooks' module graph", () => {
  it("loads no Prisma: a service's Prisma client is taken as a value, never imported", async () => {
    expect(await importFailure(webhooks, prismaModules)).toBeNull();
  });

  it("would notice a forbidden module if it were loaded (the guard is live)", async () => {
    expect(await importFailure(webhooks, /\/src\/webhooks\/delivery\.ts$/)).toMatch(/forbidden module file:.*\/src\/webhooks\/delivery\.ts/);
  });
});
