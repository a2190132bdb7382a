export { envSchema, type Env } from "./schema.ts";
export { ConfigError, loadConfig, loadConfigOrExit } from "./load.ts";
