import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, dropDatabase, serverUrl, uniqueName } from "@outbox/testing";
import { readMigrations } from "../src/index.ts";

const entry = path.resolve(import.meta.dirname, "../src/bin/migrate.ts");
const dir = mkdtempSync(path.join(os.tmpdir(), "outbox-dotenv-"));
const name = uniqueName("outbox_dotenv");
const server = new URL(serverUrl).host;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropDatabase(name);
});

/** `pnpm db:migrate`'s program, run in `dir` with nothing of the test's configuration in its environment. */
async function migrateCommand(env: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !["DATABASE_URL", "LOG_LEVEL", "NODE_ENV"].includes(key)));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", import.meta.resolve("tsx"), entry], { cwd: dir, env: { ...clean, ...env } });
  return stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("pnpm db:migrate", () => {
  it("reads .env from the working directory (the environment wins), and names the database it created", async () => {
    writeFileSync(path.join(dir, ".env"), `# as .env.example says\nDATABASE_URL=${databaseUrl(name)}   # the database\nLOG_LEVEL=silent\n`);
    const migrations = await readMigrations();

    const [created] = await migrateCommand({ LOG_LEVEL: "info" });
    expect(created).toMatchObject({
      name: "migrate",
      database: name,
      server,
      created: true,
      msg: `created database ${name} on ${server}: applied ${migrations.length} migrations`,
    });

    const [again] = await migrateCommand({ LOG_LEVEL: "info" });
    expect(again).toMatchObject({ database: name, created: false, applied: [], msg: `database ${name} on ${server}: up to date` });
  });
});
