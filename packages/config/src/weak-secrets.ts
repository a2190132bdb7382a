/**
 * Secrets that appeared in this repository (its code, docs or examples at some point): anyone can
 * read them, so they authenticate nothing, anywhere. Compared without case, as parts of a value too
 * ("outbox-admin-2" is as guessable as "outbox-admin").
 */
export const publishedSecrets = ["outbox-admin"];

/** A password shorter than this is refused where others can reach the API (off loopback, or in production). */
export const minExposedPasswordLength = 12;

/** A value with fewer different characters than this is refused off loopback and in production. */
const minDistinctCharacters = 6;

/** Why a secret is known to anyone: it holds a value published in this repository; undefined when it does not. */
export function publishedIn(value: string): string | undefined {
  const lower = value.toLowerCase();
  if (!publishedSecrets.some((published) => lower.includes(published))) return undefined;
  return "holds a value published in this repository's code or docs, so anyone can use it: set a random one (openssl rand -base64 24)";
}

/**
 * Why a secret is too weak where others can reach the process (HOST not loopback, or
 * NODE_ENV=production); undefined when it is not. The message never repeats the value.
 */
export function weaknessOf(value: string, minLength: number): string | undefined {
  const where = "when HOST is not loopback or NODE_ENV=production";
  if (value.length < minLength) return `must be at least ${minLength} characters ${where}`;
  if (/^(.+?)\1+$/su.test(value)) return `is one short sequence repeated, too easy to guess ${where}: set a random one (openssl rand -base64 24)`;
  if (new Set(value).size < minDistinctCharacters) {
    return `has fewer than ${minDistinctCharacters} different characters, too easy to guess ${where}: set a random one (openssl rand -base64 24)`;
  }
  return undefined;
}
