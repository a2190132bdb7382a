import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importFailure, prismaModules } from "@outbox/testing";

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

describe("the delivery side's module graph", () => {
  it("loads no Prisma: the worker imports the package, endpoint management's Prisma import is type-only", async () => {
    expect(await importFailure(path("../src/index.ts"), prismaModules)).toBeNull();
    expect(await importFailure(path("../src/delivery.ts"), prismaModules)).toBeNull();
  });

  it("would notice Prisma if it were loaded (the guard is live)", async () => {
    expect(await importFailure(path("../../db/src/index.ts"), prismaModules)).toMatch(/forbidden module file:.*\/packages\/db\/src\/index\.ts/);
  });
});
