export { buildApp, type AppOptions } from "./app.ts";
export { ApiError, bodyLimitBytes } from "./errors.ts";
