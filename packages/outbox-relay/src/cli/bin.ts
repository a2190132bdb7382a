#!/usr/bin/env node
// `outbox-relay <command>`: the admin command line for any service (see environment.ts).
import { databaseUrlFrom, encryptionKeysFrom, settingsFrom } from "./environment.ts";
import { runCli } from "./main.ts";

// A reader that closed the pipe early (`outbox-relay dlq list | head`) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  program: "outbox-relay",
  settings: (flags) => settingsFrom(flags, process.env),
  databaseUrl: (flags) => databaseUrlFrom(flags, process.env),
  encryptionKeys: () => encryptionKeysFrom(process.env),
});
