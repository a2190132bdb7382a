import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "deploy/test/**/*.test.ts", "bench/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    // Suites start real processes against one Postgres and one Redis on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: "test", LOG_LEVEL: "silent" },
  },
});
