import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importFailure } from "@outbox/testing";

const root = fileURLToPath(new URL("../../../", import.meta.url));

interface Workspace {
  name: string;
  dir: string;
  private: boolean;
  dependencies: string[];
}

function workspaces(parent: string): Workspace[] {
  return readdirSync(path.join(root, parent)).flatMap((name) => {
    const dir = path.join(root, parent, name);
    const manifest = path.join(dir, "package.json");
    if (!statSync(dir).isDirectory()) return [];
    const json = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; private?: boolean; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    return [{ name: json.name, dir, private: json.private === true, dependencies: Object.keys({ ...json.dependencies, ...json.devDependencies }) }];
  });
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every `@outbox/…` package a file imports (values and types), and every path it imports outside its own package. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((match) => match[1]!).filter((spec) => spec.startsWith("@outbox/") || spec.startsWith("../../"));
}

const all = [...workspaces("packages"), ...workspaces("apps")];
// The engine is what is published: every package without `private`. The rest is the order domain and its apps.
const engine = all.filter((workspace) => !workspace.private);
const domain = all.filter((workspace) => workspace.private && workspace.name !== "@outbox/testing");

/** The worker side: what runs events. The API only writes them and administers them. */
const workerSide = /\/(packages\/(processor|scanner|handlers|webhook-delivery|mailer|engine)|apps\/worker)\//;

describe("the engine and the order domain apart", () => {
  it("names the engine's packages, the domain's and the apps'", () => {
    expect(engine.map((workspace) => workspace.name)).toEqual(expect.arrayContaining(["@outbox/engine", "@outbox/events", "@outbox/processor", "@outbox/scanner"]));
    expect(domain.map((workspace) => workspace.name)).toEqual(expect.arrayContaining(["@outbox/domain", "@outbox/handlers", "@outbox/webhooks", "@outbox/api", "@outbox/worker"]));
  });

  it("no engine package depends on, or imports, a domain package: its tests neither (they use a catalog of their own)", () => {
    const domainNames = new Set(domain.map((workspace) => workspace.name));
    const offences = engine.flatMap((workspace) => [
      ...workspace.dependencies.filter((name) => domainNames.has(name)).map((name) => `${workspace.name} depends on ${name}`),
      ...["src", "test"].flatMap((folder) => sourceFiles(path.join(workspace.dir, folder))).flatMap((file) =>
        importsOf(file)
          .filter((spec) => domainNames.has(spec) || spec.startsWith("../../"))
          .map((spec) => `${path.relative(root, file)} imports ${spec}`),
      ),
    ]);
    expect(offences).toEqual([]);
  });

  it("the API loads no worker-side module (processor, relay, handlers, webhook delivery, mailer)", async () => {
    expect(await importFailure(path.join(root, "apps/api/src/app.ts"), workerSide)).toBeNull();
  });

  it("would notice a worker-side module in the API (the guard is live)", async () => {
    expect(await importFailure(path.join(root, "apps/worker/src/index.ts"), workerSide)).toMatch(/forbidden module/);
  });
});
