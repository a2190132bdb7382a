// The second step of `pnpm build`: compiles the outbox-relay package (packages/outbox-relay) to
// JavaScript and type declarations in its dist/, with the TypeScript compiler and the package's
// tsconfig.build.json. Inside the workspace, code keeps importing the TypeScript sources (`exports`
// names ./src/…); `pnpm pack` swaps in publishConfig.exports, which names ./dist.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const root = path.resolve(import.meta.dirname, "..");
export const packageDir = path.join(root, "packages", "outbox-relay");
export const manifest = () => JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));

// Declarations keep the sources' `./x.ts` specifiers (TypeScript rewrites them only in .js); tsc
// reads those, but other tools want the `./x.js` that sits beside the declaration.
const tsSpecifier = /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']+)\.ts\2/g;
const writeOutput = (fileName, text) =>
  ts.sys.writeFile(fileName, fileName.endsWith(".d.ts") ? text.replace(tsSpecifier, "$1$2$3.js$2") : text);

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };

/** Compiles the package into its dist/; returns the compiler's complaints, empty when none. */
export function buildPackage() {
  rmSync(path.join(packageDir, "dist"), { recursive: true, force: true });
  const configFile = path.join(packageDir, "tsconfig.build.json");
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) return [`${configFile}: missing or unreadable`];
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...program.emit(undefined, writeOutput).diagnostics];
  return diagnostics.length === 0 ? [] : [ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)];
}

if (process.argv[1] === import.meta.filename) {
  const started = Date.now();
  const problems = buildPackage();
  if (problems.length > 0) {
    console.error(`build: outbox-relay does not compile\n${problems.join("\n")}`);
    process.exit(1);
  }
  console.error(`build: outbox-relay compiled into packages/outbox-relay/dist in ${Date.now() - started} ms`);
}
