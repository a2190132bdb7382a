// The second step of `pnpm build`: compiles every publishable package (a package under packages/
// that is not private) to JavaScript and type declarations in its dist/, with the TypeScript
// compiler and the package's tsconfig.build.json. Inside the workspace, code keeps importing the
// TypeScript sources (`exports` names ./src/index.ts); `pnpm pack` swaps in publishConfig.exports,
// which names ./dist. Packages build in dependency order: tsconfig.build.json maps @outbox/* to the
// dist/ declarations of the packages built before.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const root = path.resolve(import.meta.dirname, "..");

/** The publishable packages, each after the workspace packages it depends on. */
export function publishablePackages() {
  const all = new Map();
  for (const dir of readdirSync(path.join(root, "packages"))) {
    const file = path.join(root, "packages", dir, "package.json");
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, "utf8"));
    all.set(manifest.name, { name: manifest.name, dir: path.join(root, "packages", dir), manifest });
  }
  const ordered = [];
  const visit = (pkg, from) => {
    if (ordered.includes(pkg)) return;
    if (pkg.manifest.private) throw new Error(`${from} depends on ${pkg.name}, which is private: it cannot be installed from the registry`);
    for (const dependency of Object.keys(pkg.manifest.dependencies ?? {})) {
      if (all.has(dependency)) visit(all.get(dependency), pkg.name);
    }
    // `pnpm pack` writes a version in place of every workspace:*, devDependencies' too.
    for (const dependency of Object.keys(pkg.manifest.devDependencies ?? {})) {
      if (all.has(dependency) && !all.get(dependency).manifest.version) throw new Error(`${dependency}, a devDependency of ${pkg.name}, needs a version (0.0.0 for a private one) for pnpm pack`);
    }
    ordered.push(pkg);
  };
  for (const pkg of all.values()) if (!pkg.manifest.private) visit(pkg);
  return ordered;
}

// Declarations keep the sources' `./x.ts` specifiers (TypeScript rewrites them only in .js); tsc
// reads those, but other tools want the `./x.js` that sits beside the declaration.
const tsSpecifier = /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']+)\.ts\2/g;
const writeOutput = (fileName, text) =>
  ts.sys.writeFile(fileName, fileName.endsWith(".d.ts") ? text.replace(tsSpecifier, "$1$2$3.js$2") : text);

// Every package reads the same lib and node_modules declarations (@types/node, bullmq, pg, …):
// parsing them once instead of once per package more than halves the build.
const parsedLibraries = new Map();
function cachingHost(options) {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, version, ...rest) => {
    if (!fileName.includes("/node_modules/")) return read(fileName, version, ...rest);
    const key = `${fileName}\0${typeof version === "object" ? `${version.languageVersion}:${version.impliedNodeFormat}` : version}`;
    if (!parsedLibraries.has(key)) parsedLibraries.set(key, read(fileName, version, ...rest));
    return parsedLibraries.get(key);
  };
  return host;
}

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };

/** Compiles one package into its dist/; returns the compiler's complaints, empty when none. */
export function buildPackage({ dir }) {
  rmSync(path.join(dir, "dist"), { recursive: true, force: true });
  const configFile = path.join(dir, "tsconfig.build.json");
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) return [`${configFile}: missing or unreadable`];
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host: cachingHost(config.options) });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...program.emit(undefined, writeOutput).diagnostics];
  return diagnostics.length === 0 ? [] : [ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)];
}

if (process.argv[1] === import.meta.filename) {
  const started = Date.now();
  const fail = (message) => {
    console.error(`build: ${message}`);
    process.exit(1);
  };
  let packages = [];
  try {
    packages = publishablePackages();
  } catch (error) {
    fail(error.message);
  }
  for (const pkg of packages) {
    const problems = buildPackage(pkg);
    if (problems.length > 0) fail(`${pkg.name} does not compile\n${problems.join("\n")}`);
  }
  console.error(`build: ${packages.length} packages compiled into their dist/ in ${Date.now() - started} ms`);
}
