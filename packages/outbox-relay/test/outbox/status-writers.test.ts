import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../..", import.meta.url));
const owner = "packages/outbox-relay/src/outbox/state-machine.ts";

const table = String.raw`(?:"?\w+"?\.)?"?event_outbox"?\b`;
const update = new RegExp(String.raw`\bUPDATE\s+(?:ONLY\s+)?${table}`, "gi");
const remove = new RegExp(String.raw`\bDELETE\s+FROM\s+(?:ONLY\s+)?${table}`, "gi");
const insert = new RegExp(String.raw`\bINSERT\s+INTO\s+${table}\s*\(([^)]*)\)`, "gi");
const prismaWrite = /\beventOutbox\s*\.\s*(?:update|updateMany|updateManyAndReturn|upsert|delete|deleteMany|create|createMany|createManyAndReturn)\s*\(/g;

/**
 * The statements of one source text that write event_outbox's status: an UPDATE whose SET (up to
 * the end of its template) assigns `status`, any DELETE, an INSERT that lists `status`, and any
 * Prisma write of the model (its data may set the status).
 */
function statusWrites(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(update)) {
    const end = text.indexOf("`", match.index);
    const statement = text.slice(match.index, end === -1 ? undefined : end);
    const assignments = /\bSET\b([\s\S]*?)(?:\bFROM\b|\bWHERE\b|\bRETURNING\b|$)/i.exec(statement)?.[1] ?? "";
    if (/\bstatus\s*=/i.test(assignments)) found.push(statement.split("\n")[0]!.trim());
  }
  for (const match of text.matchAll(remove)) found.push(match[0]);
  for (const match of text.matchAll(insert)) if (/\bstatus\b/i.test(match[1]!)) found.push(match[0].split("\n")[0]!.trim());
  for (const match of text.matchAll(prismaWrite)) found.push(match[0]);
  return found;
}

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const top of ["packages", "apps"]) {
    for (const name of readdirSync(join(root, top))) {
      const src = join(root, top, name, "src");
      let entries: string[];
      try {
        entries = readdirSync(src, { recursive: true, encoding: "utf8" });
      } catch {
        continue;
      }
      // Prisma's generated client documents every write of every model; it runs none by itself.
      for (const entry of entries) if (/\.(ts|tsx|mts|js|mjs|sql)$/.test(entry) && !entry.startsWith("generated/")) files.push(join(src, entry));
    }
  }
  return files;
}

describe("the outbox state machine's one owner", () => {
  it("no source file under packages/*/src or apps/*/src but state-machine.ts writes event_outbox's status", () => {
    const writers = sourceFiles()
      .map((file) => ({ file: relative(root, file), writes: statusWrites(readFileSync(file, "utf8")) }))
      .filter(({ file, writes }) => writes.length > 0 && file !== owner);
    expect(writers).toEqual([]);
  });

  it("finds the writes it looks for (the scan is live)", () => {
    expect(statusWrites(readFileSync(join(root, owner), "utf8"))).toHaveLength(8);
    expect(statusWrites("sql`UPDATE event_outbox\n SET status = 'skipped' WHERE id = 1`")).toHaveLength(1);
    expect(statusWrites('sql`update public."event_outbox" o set attempts = 0, status = ${s}`')).toHaveLength(1);
    expect(statusWrites("sql`DELETE FROM event_outbox WHERE true`")).toHaveLength(1);
    expect(statusWrites("`INSERT INTO event_outbox (id, status) VALUES (1, 'dead')`")).toHaveLength(1);
    expect(statusWrites("prisma.eventOutbox.updateMany({ data: { status: 'dead' } })")).toHaveLength(1);
    // Not status writes: another column, a plain insert (pending by default), reads.
    expect(statusWrites("sql`UPDATE event_outbox SET attempts = 0 WHERE status = 'dead'`")).toEqual([]);
    expect(statusWrites("sql`INSERT INTO event_outbox (id, event_type) VALUES ($1, $2)`")).toEqual([]);
    expect(statusWrites("sql`SELECT status FROM event_outbox` prisma.eventOutbox.count()")).toEqual([]);
  });
});
