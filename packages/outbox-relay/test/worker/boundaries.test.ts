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
 * The worker side: what runs events (the relay, the processor's runs, the worker itself, the shop's
 * handlers). The API only writes events and administers them; the package's entry point loads the
 * worker only when startWorker is called.
 */
const workerSide =
  /\/(packages\/outbox-relay\/src\/(relay\/|worker\/worker\.ts|processor\/(processor|run-batch|commit-group|run-external)\.ts)|packages\/(handlers|webhook-delivery|mailer)\/|apps\/worker\/)/;

/** The entry points the published package offers: `publishConfig.exports`, its code ones. */
function publishedEntries(): Set<string> {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { publishConfig: { exports: Record<string, unknown> } };
  const subpaths = Object.keys(manifest.publishConfig.exports).filter((subpath) => !subpath.includes("*") && !subpath.endsWith(".sql"));
  return new Set(subpaths.map((subpath) => `outbox-relay${subpath.slice(1)}`));
}

/** The order shop's code: its apps and the packages of its domain. */
const shopSources = ["apps/api/src", "apps/worker/src", "apps/cli/src", "packages/domain/src", "packages/handlers/src", "packages/mailer/src", "packages/config/src", "packages/db/src"];

describe("the outbox-relay package and the shop apart", () => {
  it("the shop imports the package only through its published entry points, never a path into it", () => {
    const entries = publishedEntries();
    const imports = shopSources.flatMap((dir) => sourceFiles(path.join(root, dir)).filter((file) => !file.includes("/generated/")).flatMap((file) => importsOf(file).map((spec) => ({ file, spec }))));
    const offences = imports
      .filter(({ file, spec }) => (spec.startsWith("outbox-relay") && !entries.has(spec)) || (spec.startsWith(".") && path.resolve(path.dirname(file), spec).startsWith(packageDir + path.sep)))
      .map(({ file, spec }) => `${path.relative(root, file)} imports ${spec}`);
    expect(offences).toEqual([]);
    expect(entries).toEqual(new Set(["outbox-relay", "outbox-relay/admin", "outbox-relay/fastify", "outbox-relay/webhooks", "outbox-relay/testing"]));
    // The scan is live: the shop does import the package.
    expect(imports.filter(({ spec }) => entries.has(spec)).length).toBeGreaterThan(40);
  });

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
