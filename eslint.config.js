import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "packages/db/src/generated/**", "examples/*/src/generated/**", "**/.turbo/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
      // Handlers and job processors are async by contract, even the ones with nothing to await.
      "@typescript-eslint/require-await": "off",
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through @outbox/config." },
      ],
    },
  },
  {
    files: ["packages/config/src/**", "packages/testing/src/**", "packages/outbox-relay/src/cli/bin.ts", "vitest.config.ts", "prisma.config.ts", "scripts/**", "bench/**", "**/test/**"],
    rules: { "no-restricted-properties": "off" },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  {
    // Services outside the workspace, installed from the packed engine by examples/test (and type
    // checked there, prisma-service with its generated client): no types here, and their
    // configuration is their own process.env.
    files: ["examples/minimal/**", "examples/prisma-service/**"],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, "no-restricted-properties": "off" },
  },
  {
    // Plain JavaScript that node runs before anything is built.
    files: ["scripts/*.mjs", "apps/*/bin/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: "readonly", console: "readonly" } },
  },
);
