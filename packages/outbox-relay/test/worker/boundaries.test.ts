import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importFailure } from "@outbox/testing";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const packageDir = path.join(root, "packages", "outbox-relay");

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts")).map((file) => path.join(dir, file));
}

/** Every bare package a file imports (values and types), and every relative path it imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((match) => match[1]!);
}

/**
 * The worker side: what runs events. The API only writes them and administers them. The processor's
 * handler contract and error classes (handler.ts, errors.ts) are leaves that outbox-relay/webhooks,
 * which an API loads to manage endpoints, builds its delivery handler with.
 */
const workerSide =
  /\/(packages\/outbox-relay\/src\/(processor\/(?!(handler|errors)\.ts$)|relay\/|worker\/)|packages\/outbox-relay\/src\/index\.ts|packages\/(handlers|mailer)\/|apps\/worker\/)/;

describe("the outbox-relay package and the shop apart", () => {
  it("the package imports no workspace package and nothing outside itself: its tests only the test tooling", () => {
    const offences = ["src", "test"].flatMap((folder) =>
      sourceFiles(path.join(packageDir, folder)).flatMap((file) =>
        importsOf(file)
          .filter((spec) => {
            if (spec.startsWith(".")) return !path.resolve(path.dirname(file), spec).startsWith(packageDir + path.sep);
            return spec.startsWith("@outbox/") && !(folder === "test" && spec === "@outbox/testing");
          })
          .map((spec) => `${path.relative(root, file)} imports ${spec}`),
      ),
    );
    expect(offences).toEqual([]);
  });

  it("finds the imports it looks for (the scan is live)", () => {
    const files = sourceFiles(path.join(packageDir, "src"));
    expect(files.length).toBeGreaterThan(50);
    expect(importsOf(path.join(packageDir, "src", "index.ts"))).toContain("./events/index.ts");
  });

  it("the API loads no worker-side module (the processor's machinery, relay, handlers, mailer)", async () => {
    expect(await importFailure(path.join(root, "apps/api/src/app.ts"), workerSide)).toBeNull();
  });

  it("would notice a worker-side module in the API (the guard is live)", async () => {
    expect(await importFailure(path.join(root, "apps/worker/src/index.ts"), workerSide)).toMatch(/forbidden module/);
  });
});
