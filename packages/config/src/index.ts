export { envSchema, webhookInFlightCaps, type Env } from "./schema.ts";
export { ConfigError, loadConfig, loadConfigOrExit, readEnvFile } from "./load.ts";
