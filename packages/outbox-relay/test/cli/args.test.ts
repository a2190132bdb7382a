import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkEventType, parseCommandLine, usage } from "../../src/cli/args.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { testEvents } from "@outbox/testing";

describe("the command line", () => {
  it.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [[], "no command given"],
    [["dlq", "retry"], '"dlq retry" needs an event id or --all'],
    [["dlq", "retry", "not-a-uuid"], 'event id "not-a-uuid" is not a UUID'],
    [["dlq", "retry", randomUUID(), "--all"], "give either an event id or --all, not both"],
    [["dlq", "skip"], '"dlq skip" needs an event id'],
    [["replay", "--type", "AccountOpened"], "replay needs --since"],
    [["replay", "--type", "AccountOpened", "--since", "yesterday"], '--since: "yesterday" is not an ISO-8601 date'],
    [["stats", "--since", "2026-01-01"], 'option --since does not apply to "stats"'],
    [["stats", "--bogus"], "Unknown option '--bogus'"],
    [["stats", "--database-url"], "argument missing"],
    [["migrate", "extra"], 'unexpected argument "extra"'],
    [["migrate", "--database-url", "redis://127.0.0.1:6379"], "--database-url: not a postgresql:// URL"],
    [["migrate", "--type", "X"], 'option --type does not apply to "migrate"'],
    [["webhooks"], '"webhooks" needs a subcommand: keys or reencrypt'],
    [["webhooks", "rotate"], 'unknown webhooks subcommand "rotate"'],
    [["webhooks", "keys", "--dry-run"], 'option --dry-run does not apply to "webhooks keys"'],
    [["webhooks", "reencrypt", "--batch-size", "0"], '--batch-size: "0" is not a positive whole number'],
    [["webhooks", "reencrypt", "now"], 'unexpected argument "now"'],
  ])("refuses %j naming the problem", (args, message) => {
    expect(() => parseCommandLine(args)).toThrow(UsageError);
    expect(() => parseCommandLine(args)).toThrow(message);
  });

  it("takes the connection flags with any command", () => {
    const parsed = parseCommandLine(["dlq", "list", "--type", "AccountOpened", "--database-url", "postgres://db/x", "--queue-prefix", "billing", "--catalog", "./events.js", "--json"]);
    expect(parsed).toEqual({
      command: { name: "dlq list", type: "AccountOpened" },
      json: true,
      connection: { "database-url": "postgres://db/x", "queue-prefix": "billing", catalog: "./events.js" },
    });
  });

  it("reads the webhooks commands", () => {
    expect(parseCommandLine(["webhooks", "keys", "--json"]).command).toEqual({ name: "webhooks keys" });
    expect(parseCommandLine(["webhooks", "reencrypt"]).command).toEqual({ name: "webhooks reencrypt", dryRun: false });
    expect(parseCommandLine(["webhooks", "reencrypt", "--dry-run", "--batch-size", "50"]).command).toEqual({ name: "webhooks reencrypt", dryRun: true, batchSize: 50 });
  });

  it("refuses a --type the service's catalog does not know, naming the known ones", () => {
    const { command } = parseCommandLine(["replay", "--type", "Nope", "--since", "2026-01-01"]);
    expect(() => checkEventType(command, testEvents)).toThrow('--type: unknown event type "Nope" (known: AccountOpened, AccountClosed, ReceiptSent)');
    expect(() => checkEventType(parseCommandLine(["dlq", "retry", "--all", "--type", "AccountClosed"]).command, testEvents)).not.toThrow();
  });

  it("names the program the user typed in its help", () => {
    expect(usage("outbox-relay")).toMatch(/^Usage: outbox-relay <command>/);
    expect(usage("pnpm outbox")).toContain("--catalog FILE");
    expect(usage("pnpm outbox")).toContain("webhooks reencrypt [--dry-run] [--batch-size N]");
    expect(usage("pnpm outbox")).toContain("ENCRYPTION_KEY_PREVIOUS");
  });
});
