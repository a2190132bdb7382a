import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { envFileValues } from "./env-file.ts";

type Source = Record<string, string | undefined>;

/** The secrets a development start makes when they are unset: random, URL-safe, never printed. */
const generators = {
  ADMIN_PASSWORD: () => randomBytes(24).toString("base64url"),
  ENCRYPTION_KEY: () => randomBytes(32).toString("base64url"),
};

export type DevelopmentSecret = keyof typeof generators;

/**
 * For a development start: every secret of `generators` unset in `env` is taken from `file` (a
 * `.env`) or, when the file lacks it too, generated and appended there (the file is created, or
 * left, with mode 0600). Then `env` holds it. Returns the names generated now: only one process
 * generates them, the others (started at the same time) wait for its lock and read them.
 */
export function ensureDevelopmentSecrets(file: string, env: Source): DevelopmentSecret[] {
  const missing = (Object.keys(generators) as DevelopmentSecret[]).filter((name) => !env[name]);
  if (missing.length === 0) return [];
  return withLock(`${file}.lock`, () => {
    const saved = envFileValues(file);
    const generated = missing.filter((name) => !saved[name]);
    if (generated.length > 0) append(file, Object.fromEntries(generated.map((name) => [name, generators[name]()])));
    const values = envFileValues(file);
    for (const name of missing) if (values[name]) env[name] = values[name];
    return generated;
  });
}

/** Appends `NAME=value` lines on a line of their own; the file ends readable by its owner only. */
function append(file: string, values: Record<string, string>): void {
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  const separator = before === "" || before.endsWith("\n") ? "" : "\n";
  const lines = Object.entries(values).map(([name, value]) => `${name}=${value}\n`);
  appendFileSync(file, `${separator}# generated on the first development start; never printed\n${lines.join("")}`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The lock is held for a read and an append (milliseconds): one older than staleLockMs was left by a process that died. */
const lockWaitMs = 15_000;
const staleLockMs = 5_000;

/** Runs `work` while holding `lock` (a file created exclusively); waits for another holder. */
function withLock<T>(lock: string, work: () => T): T {
  const descriptor = acquire(lock);
  try {
    return work();
  } finally {
    closeSync(descriptor);
    unlinkSync(lock);
  }
}

function acquire(lock: string): number {
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      return openSync(lock, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (isStale(lock)) removeQuietly(lock);
      else if (Date.now() > deadline) throw new Error(`another process holds ${lock}: remove it if no process is starting`, { cause: error });
      else sleep(25);
    }
  }
}

/** A lock older than any start: its holder died before removing it. */
function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > staleLockMs;
  } catch {
    return false;
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Another waiter removed it first.
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
