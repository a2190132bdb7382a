const credentialsInUrl = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi;

/** Removes the password from every `scheme://user:password@host` in a string. */
export function maskUrlCredentials(text: string): string {
  return text.replace(credentialsInUrl, "$1***@");
}

const maxDepth = 6;

/**
 * A copy of a value fit for a log line: URL credentials masked in every string, errors serialized
 * (see serializeError), dates kept, other objects copied by their own enumerable properties down
 * to a fixed depth (an object that deep is cut off rather than written whole).
 */
export function maskValue(value: unknown, serializeError: (error: Error) => unknown, depth = 0): unknown {
  if (typeof value === "string") return maskUrlCredentials(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return serializeError(value);
  if (value instanceof Date) return value;
  if (depth >= maxDepth) return "[too deep]";
  if (Array.isArray(value)) return value.map((item) => maskValue(item, serializeError, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskValue(item, serializeError, depth + 1)]));
}
