export type { Logger } from "pino";
export { createLogger, wantsPretty, type CreateLoggerOptions } from "./create.ts";
export { addLogFilter, type LogFilter } from "./filters.ts";
export { maskUrlCredentials } from "./mask.ts";
export { safeUrl, serializeError, serializeRequest, serializeResponse, type SerializedError } from "./serializers.ts";
