import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDevelopmentSecrets, envFileValues, loadConfig, readEnvFile } from "../src/index.ts";

const example = readFileSync(path.resolve(import.meta.dirname, "../../../.env.example"), "utf8");

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A `.env` holding `text` in a folder of its own. */
function envFile(text: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), "outbox-env-file-"));
  folders.push(folder);
  const file = path.join(folder, ".env");
  writeFileSync(file, text);
  return file;
}

/** What each uncommented `NAME=value` line of .env.example means: a quoted value whole, else the text before ` #`. */
function exampleLines(): Record<string, string> {
  const lines = example.split("\n").filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line));
  return Object.fromEntries(
    lines.map((line) => {
      const [, name = "", raw = ""] = /^(\w+)=(.*)$/.exec(line) ?? [];
      const quoted = /^"([^"]*)"/.exec(raw);
      return [name, quoted?.[1] ?? raw.replace(/\s+#.*$/, "").trim()];
    }),
  );
}

describe("envFileValues on .env.example", () => {
  it("reads every uncommented line with its value, inline comments stripped, quoted values whole", () => {
    const expected = exampleLines();
    expect(Object.keys(expected).length).toBeGreaterThan(30);
    expect(envFileValues(envFile(example))).toEqual(expected);
    expect(expected).toMatchObject({
      SCAN_CRON: "*/5 * * * * *",
      PAYMENT_EXPIRY_CRON: "*/5 * * * *",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false",
      DATABASE_URL: "postgresql://postgres:postgres@localhost:5432/outbox",
    });
  });

  it("is a valid configuration as it stands", () => {
    expect(() => loadConfig(envFileValues(envFile(example)))).not.toThrow();
  });

  it("reads the same with CRLF line endings", () => {
    expect(envFileValues(envFile(example.replaceAll("\n", "\r\n")))).toEqual(exampleLines());
  });
});

describe("envFileValues", () => {
  it("keeps the line after an indented comment (Node 20's loadEnvFile drops it)", () => {
    const file = envFile("A=1\n  # an indented comment\nWEBHOOK_ALLOW_PRIVATE_NETWORKS=true\n\t# a tab too\nB=2\n");
    expect(envFileValues(file)).toEqual({ A: "1", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", B: "2" });
  });

  it("skips a line it cannot read without losing its neighbours", () => {
    const file = envFile("A=1\nPORT 3000\n= no name\nnot a line at all\nB=2");
    expect(envFileValues(file)).toEqual({ A: "1", B: "2" });
  });

  it("keeps a # inside quotes, and the last of two lines naming one variable wins", () => {
    const file = envFile(`SMTP_URL="smtp://u:p#w@mail:25"  # a comment\r\nA=1\nA=2\n`);
    expect(envFileValues(file)).toEqual({ SMTP_URL: "smtp://u:p#w@mail:25", A: "2" });
  });

  it("is empty when there is no file", () => {
    expect(envFileValues(path.join(tmpdir(), "outbox-no-such-folder", ".env"))).toEqual({});
  });
});

describe("readEnvFile", () => {
  it("adds the file's variables to the environment; a variable already set there wins", () => {
    const file = envFile("PORT=4000\nLOG_LEVEL=debug\n  # note\nQUEUE_PREFIX=mine\n");
    const env: Record<string, string | undefined> = { PORT: "5000" };
    expect(readEnvFile(file, env)).toBe(file);
    expect(env).toEqual({ PORT: "5000", LOG_LEVEL: "debug", QUEUE_PREFIX: "mine" });
  });

  it("returns undefined and changes nothing without a file", () => {
    const env = { PORT: "5000" };
    expect(readEnvFile(path.join(tmpdir(), "outbox-no-such-folder", ".env"), env)).toBeUndefined();
    expect(env).toEqual({ PORT: "5000" });
  });
});

describe("development secrets appended to a .env copied from .env.example", () => {
  it.each([
    ["as written", example],
    ["with CRLF line endings", example.replaceAll("\n", "\r\n")],
    ["without a final newline", example.trimEnd()],
  ])("read back with every other value (%s)", (_, text) => {
    const file = envFile(text);
    const env: Record<string, string | undefined> = {};
    expect(ensureDevelopmentSecrets(file, env)).toEqual(["ADMIN_PASSWORD", "ENCRYPTION_KEY"]);
    expect(envFileValues(file)).toEqual({ ...exampleLines(), ADMIN_PASSWORD: env.ADMIN_PASSWORD, ENCRYPTION_KEY: env.ENCRYPTION_KEY });
    expect(ensureDevelopmentSecrets(file, {})).toEqual([]);
  });
});
