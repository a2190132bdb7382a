// Bundles one entry point with esbuild into plain JavaScript: workspace packages (@outbox/*) are
// bundled, third-party packages stay external and must be dependencies of the package that runs
// the bundle (Node resolves them from there), which is checked.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import * as esbuild from "esbuild";

export const root = path.resolve(import.meta.dirname, "..");

const thirdPartyExternal = {
  name: "third-party-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@outbox/") || args.path === "outbox-relay" || args.path.startsWith("outbox-relay/") ? undefined : { path: args.path, external: true }));
  },
};

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const packageName = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

function undeclaredImports(metafile, out, owner) {
  const manifest = JSON.parse(readFileSync(path.join(root, owner, "package.json"), "utf8"));
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }));
  const imports = metafile.outputs[out].imports.filter((i) => i.external && !builtins.has(i.path)).map((i) => packageName(i.path));
  return [...new Set(imports)].filter((name) => !declared.has(name)).map((name) => `${owner}/package.json does not depend on ${name}, which ${out} imports`);
}

/** Builds `out` from `entry`; returns the problems found (undeclared dependencies), empty when none. */
export async function bundle({ entry, out, owner }) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
    plugins: [thirdPartyExternal],
  });
  return undeclaredImports(result.metafile, out, owner);
}
