// `pnpm -s pack:engine [directory]`: builds the outbox-relay package (scripts/build-package.mjs) and
// packs it with `pnpm pack` into `directory` (default dist/packages) as outbox-relay-<version>.tgz,
// the file `npm publish` would publish. Prints one JSON object: the name, version and tarball path.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { buildPackage, manifest, packageDir, root } from "./build-package.mjs";

/** Builds and packs the package into `directory`; returns its name, version and tarball path. */
export function packPackage(directory) {
  mkdirSync(directory, { recursive: true });
  const problems = buildPackage();
  if (problems.length > 0) throw new Error(`outbox-relay does not compile:\n${problems.join("\n")}`);
  const packed = JSON.parse(execFileSync("pnpm", ["pack", "--json", "--pack-destination", directory], { cwd: packageDir, encoding: "utf8" }));
  const { name, version } = manifest();
  return { name, version, tarball: path.resolve(directory, path.basename(packed.filename)) };
}

if (process.argv[1] === import.meta.filename) {
  console.log(JSON.stringify(packPackage(path.resolve(process.argv[2] ?? path.join(root, "dist", "packages")))));
}
