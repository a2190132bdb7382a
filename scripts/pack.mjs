// `pnpm pack:engine [directory]`: builds the publishable packages (scripts/build-packages.mjs) and
// packs each into a tarball in the directory (default dist/packages) with `pnpm pack`, which writes
// the version in place of workspace:* and publishConfig's `exports` and `types` (./dist) in place of
// the workspace's (./src). Prints a JSON object: each package's name and its tarball's path.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { buildPackage, publishablePackages, root } from "./build-packages.mjs";

/** Builds and packs every publishable package into `directory`; returns each name's tarball path. */
export function packPackages(directory) {
  mkdirSync(directory, { recursive: true });
  const tarballs = {};
  for (const pkg of publishablePackages()) {
    const problems = buildPackage(pkg);
    if (problems.length > 0) throw new Error(`${pkg.name} does not compile:\n${problems.join("\n")}`);
    const packed = JSON.parse(execFileSync("pnpm", ["pack", "--json", "--pack-destination", directory], { cwd: pkg.dir, encoding: "utf8" }));
    tarballs[pkg.name] = path.resolve(directory, path.basename(packed.filename));
  }
  return tarballs;
}

if (process.argv[1] === import.meta.filename) {
  const directory = path.resolve(process.argv[2] ?? path.join(root, "dist", "packages"));
  console.log(JSON.stringify(packPackages(directory), null, 2));
}
