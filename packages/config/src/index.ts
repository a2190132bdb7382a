export { apiMaxInFlightPerTenant, envSchema, webhookInFlightCaps, type Env } from "./schema.ts";
export { ConfigError, loadConfig, loadConfigOrExit, prepareDevelopmentSecrets } from "./load.ts";
export { envFileValues, readEnvFile } from "./env-file.ts";
export { ensureDevelopmentSecrets, type DevelopmentSecret } from "./development-secrets.ts";
export { isLoopbackHost } from "./loopback.ts";
export { minExposedPasswordLength, publishedSecrets } from "./weak-secrets.ts";
