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
    [["webhooks"], '"webhooks" needs a subcommand: keys, reencrypt or resend-all'],
    [["webhooks", "resend-all", "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11"], "webhooks resend-all needs --since"],
    [["webhooks", "resend-all", "nope", "--since", "2026-12-01T00:00:00Z"], '"webhooks resend-all" needs the endpoint\'s id (a UUID)'],
    [["webhooks", "resend-all", "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11", "--since", "yesterday"], "--since"],
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
    const endpointId = "0b7c6a52-3f0e-4d8e-9f59-2f4f7c1d2e11";
    expect(parseCommandLine(["webhooks", "resend-all", endpointId, "--since", "2026-12-01T00:00:00Z", "--dry-run"]).command).toEqual({
      name: "webhooks resend-all",
      endpointId,
      since: new Date("2026-12-01T00:00:00Z"),
      onlyFailed: true,
      dryRun: true,
    });
    expect(parseCommandLine(["webhooks", "resend-all", endpointId, "--since", "2026-12-01T00:00:00Z", "--all"]).command).toMatchObject({ onlyFailed: false, dryRun: false });
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
