import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.ts";

const strongKey = randomBytes(32).toString("base64url");
const strongPassword = randomBytes(18).toString("base64url");

/** The settings under which others can reach the process: a listener beyond loopback, or production. */
const exposed: [string, Record<string, string>][] = [
  ["HOST=0.0.0.0", { HOST: "0.0.0.0" }],
  ["HOST=::", { HOST: "::" }],
  ["HOST=10.0.0.5", { HOST: "10.0.0.5" }],
  ["NODE_ENV=production", { NODE_ENV: "production", ADMIN_PASSWORD: strongPassword, ENCRYPTION_KEY: strongKey }],
];

const weakPasswords: [string, string][] = [
  ["the old development password", "outbox-admin"],
  ["it in capitals", "OUTBOX-ADMIN"],
  ["it with a suffix", "outbox-admin-2026!"],
  ["one repeated letter", "a".repeat(40)],
  ["one short sequence repeated", "Ab1!".repeat(6)],
  ["five different characters", "abcdeedcbaabcdeedcba"],
  ["eleven characters", "Xk4!pQ9#mZ2"],
];

const weakKeys: [string, string][] = [
  ["32 of one repeated letter", "k".repeat(32)],
  ["a short sequence repeated", "0123456789abcdef".repeat(2)],
  ["five different characters", "abcdeabcdeedcbaedcbaabcdeabcdeea"],
  ["the old development password inside", `outbox-admin-${randomBytes(16).toString("hex")}`],
];

/** The problems loadConfig reports for a source, or "" when it accepts it. */
function problemsOf(source: Record<string, string>): string {
  try {
    loadConfig(source);
    return "";
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
}

describe("weak secrets where others can reach the process", () => {
  describe.each(exposed)("with %s", (_, settings) => {
    it.each(weakPasswords)("refuses ADMIN_PASSWORD as %s, naming the variable and not the value", (_, value) => {
      const message = problemsOf({ ...settings, ADMIN_PASSWORD: value });
      expect(message).toMatch(/ADMIN_PASSWORD (holds a value published|must be at least 12|is one short sequence repeated|has fewer than 6 different)/);
      expect(message).not.toContain(value);
    });

    it.each(weakKeys)("refuses ENCRYPTION_KEY as %s, naming the variable and not the value", (_, value) => {
      const message = problemsOf({ ...settings, ENCRYPTION_KEY: value });
      expect(message).toMatch(/ENCRYPTION_KEY (holds a value published|is one short sequence repeated|has fewer than 6 different)/);
      expect(message).not.toContain(value);
    });

    it("accepts strong random values", () => {
      expect(problemsOf({ ...settings, ADMIN_PASSWORD: strongPassword, ENCRYPTION_KEY: strongKey })).toBe("");
      expect(problemsOf({ ...settings, ADMIN_PASSWORD: "correct horse battery staple" })).toBe("");
    });
  });

  it("refuses the old development password everywhere, loopback and tests included: published, it authenticates nothing", () => {
    for (const settings of [{}, { NODE_ENV: "test" }, { NODE_ENV: "development", HOST: "127.0.0.1" }, { HOST: "localhost" }] as Record<string, string>[]) {
      expect(problemsOf({ ...settings, ADMIN_PASSWORD: "outbox-admin" })).toMatch(/ADMIN_PASSWORD holds a value published in this repository/);
    }
  });

  it("on loopback outside production, leaves a developer's own short or simple value alone", () => {
    expect(problemsOf({ HOST: "127.0.0.1", ADMIN_PASSWORD: "dev-pass", ENCRYPTION_KEY: "k".repeat(32) })).toBe("");
  });
});

const root = path.resolve(import.meta.dirname, "../../..");

/** The documentation and examples a reader copies from. */
function documents(): string[] {
  const files = ["README.md", ".env.example", "CHANGELOG.md"].map((file) => path.join(root, file));
  for (const folder of ["docs", "examples", "apps", "packages", "deploy", "bench"]) files.push(...walk(path.join(root, folder)));
  return files;
}

function walk(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const file = path.join(folder, name);
    if (["node_modules", "dist", "generated", "test", "results"].includes(name)) return [];
    if (statSync(file).isDirectory()) return walk(file);
    return /\.(md|example|ya?ml|env)$/.test(name) || folder.includes(`${path.sep}examples${path.sep}`) ? [file] : [];
  });
}

/** Secret values written out in a text: `ADMIN_PASSWORD=…`, `ENCRYPTION_KEY=…`, `curl -u user:…`. */
function secretsIn(text: string): { name: string; value: string }[] {
  const found: { name: string; value: string }[] = [];
  for (const match of text.matchAll(/\b(ADMIN_PASSWORD|ENCRYPTION_KEY)[=:]\s*["']?([^\s"'`$<#]+)/g)) found.push({ name: match[1]!, value: match[2]! });
  for (const match of text.matchAll(/-u\s+[\w.-]+:([^\s"'`$<]+)/g)) found.push({ name: "ADMIN_PASSWORD", value: match[1]! });
  return found;
}

describe("documentation", () => {
  it("publishes no secret that the config accepts where others can reach the process", () => {
    const accepted: string[] = [];
    for (const file of documents()) {
      for (const { name, value } of secretsIn(readFileSync(file, "utf8"))) {
        if (problemsOf({ HOST: "0.0.0.0", [name]: value }) === "") accepted.push(`${path.relative(root, file)}: ${name}=${value}`);
      }
    }
    expect(accepted).toEqual([]);
  });
});
