#!/usr/bin/env node
// `pnpm outbox <command>`: pnpm finds no `outbox` script in the root package.json and runs this bin
// (linked into the root's node_modules/.bin by its dependency on @outbox/cli) the way `pnpm exec`
// does: with no "> outbox-relay@ outbox ..." banner on stdout, so `pnpm outbox stats --json | jq`
// reads JSON alone. In one process: the bundles are built when stale (scripts/build.mjs, messages
// on stderr), then the CLI's bundle runs.
await import("../../../scripts/build.mjs");
await import("../dist/main.js");
