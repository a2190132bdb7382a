import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What loads Prisma: @outbox/db, its generated client, and Prisma's packages. */
export const prismaModules = /\/packages\/db\/|\/node_modules\/(@prisma|prisma)\/|\/\.prisma\//;

/**
 * Node options for a child process that fails as soon as it resolves a module matching `forbidden`
 * (with the module and its importer in the error): `execArgv` after the script's interpreter,
 * `env` merged into its environment.
 */
export function forbidModules(forbidden: RegExp): { execArgv: string[]; env: Record<string, string> } {
  const hooks = fileURLToPath(new URL("./forbid-modules.ts", import.meta.url));
  return { execArgv: ["--import", "tsx", "--import", hooks], env: { OUTBOX_FORBIDDEN_MODULES: forbidden.source } };
}

/**
 * Imports `entry` (a path) in a fresh Node process where resolving a module that matches
 * `forbidden` throws. Resolves with the error output when the import failed, or null.
 */
export function importFailure(entry: string, forbidden: RegExp): Promise<string | null> {
  const { execArgv, env } = forbidModules(forbidden);
  const script = `await import(${JSON.stringify(entry)});`;
  return new Promise((resolve) => {
    execFile(process.execPath, [...execArgv, "--input-type=module", "-e", script], { env: { ...process.env, ...env } }, (error, _stdout, stderr) =>
      resolve(error ? stderr || error.message : null),
    );
  });
}
