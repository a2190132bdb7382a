import type { OutboxAdmin } from "../admin/admin.ts";

export interface Output {
  write(text: string): void;
}

/** What every command receives: the admin operations on its connections, where to print, and whether to print JSON. */
export interface CommandContext {
  admin: Omit<OutboxAdmin, "close">;
  out: Output;
  json: boolean;
}

/** Prints a value as one JSON document, or text lines. */
export function print(ctx: Pick<CommandContext, "out" | "json">, data: unknown, text: () => string): void {
  ctx.out.write(ctx.json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}

/** A plain-text table: a header row, then rows, columns padded to their widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  return cells.map((row) => row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()).join("\n");
}

/** A duration as on-call reads it: 45s, 12m, 3h, 2d. */
export function humanAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function truncate(text: string | null, max: number): string {
  if (!text) return "";
  const line = text.replace(/\s+/g, " ");
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
