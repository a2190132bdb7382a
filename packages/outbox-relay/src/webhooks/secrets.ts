import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { EncryptionKeyMissingError, SecretDecryptionError } from "./errors.ts";

/** Standard Webhooks' prefix for symmetric (HMAC-SHA256) secrets. */
export const secretPrefix = "whsec_";
const secretBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
const keyIdBytes = 6;

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64). */
export function generateSecret(): string {
  return secretPrefix + randomBytes(secretBytes).toString("base64");
}

/** The HMAC key of a `whsec_` secret: the base64-decoded part after the prefix. */
export function secretKeyBytes(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix)) throw new SecretDecryptionError("the secret has no whsec_ prefix");
  const bytes = Buffer.from(secret.slice(secretPrefix.length), "base64");
  if (bytes.length < 24) throw new SecretDecryptionError("the secret is shorter than 24 bytes");
  return bytes;
}

/** An encryption key ready to use: its AES-256 key and its public id. */
export interface DerivedKey {
  aesKey: Buffer;
  id: string;
}

/** The keys a stored secret may be under: the current one (writes) first, then the previous ones (reads only). */
export interface SecretKeys {
  current: DerivedKey;
  previous: DerivedKey[];
}

// The salt and infos are part of every stored secret: changing them makes all of them unreadable.
const salt = "outbox-webhooks";

/**
 * The AES-256 key: HKDF-SHA256 over the encryption key's bytes, so any string of 32+ characters gives
 * a uniformly random 32-byte key, and the key is bound to this one use. The id comes from the same
 * HKDF under another label, so it says which key a value is under and nothing about the key.
 */
function deriveKey(encryptionKey: string): DerivedKey {
  return {
    aesKey: Buffer.from(hkdfSync("sha256", encryptionKey, salt, "webhook signing secret v1", 32)),
    id: Buffer.from(hkdfSync("sha256", encryptionKey, salt, "webhook signing secret key id", keyIdBytes)).toString("hex"),
  };
}

/** The key id stored in `v2` values (12 hex characters): what reports name a key by, never the key itself. */
export function encryptionKeyId(encryptionKey: string): string {
  return deriveKey(encryptionKey).id;
}

/** The current key and the previous ones, derived once. Without a current key, EncryptionKeyMissingError. */
export function secretKeys(encryptionKey: string | undefined, previousKeys: readonly string[] = []): SecretKeys {
  if (!encryptionKey) throw new EncryptionKeyMissingError();
  return { current: deriveKey(encryptionKey), previous: previousKeys.map(deriveKey) };
}

/**
 * AES-256-GCM with a random 12-byte IV under the current key; stored as
 * `v2:<key id>:<iv>:<tag>:<ciphertext>` (base64 parts), the `v2:<key id>` prefix authenticated with it.
 */
export function encryptSecret(secret: string, encryptionKey: string | undefined): string {
  return sealSecret(secret, secretKeys(encryptionKey).current);
}

export function sealSecret(secret: string, key: DerivedKey): string {
  const header = `v2:${key.id}`;
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv("aes-256-gcm", key.aesKey, iv).setAAD(Buffer.from(header));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [header, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
}

/**
 * The plain secret, under the current key or one of the previous ones. Throws SecretDecryptionError
 * on a value under none of them, a tampered value or an unknown format; never returns garbage.
 */
export function decryptSecret(stored: string, encryptionKey: string | undefined, previousKeys: readonly string[] = []): string {
  return openSecret(stored, secretKeys(encryptionKey, previousKeys)).secret;
}

/** What opened a stored value: the secret, which key (0 the current one, n the nth previous one), and the format. */
export interface OpenedSecret {
  secret: string;
  keyIndex: number;
  format: "v1" | "v2";
}

/**
 * Opens a stored value. A `v2` value names its key, so only that key is tried; a `v1` value (written
 * before key ids) is tried under each key in turn, the current one first.
 */
export function openSecret(stored: string, keys: SecretKeys): OpenedSecret {
  const all = [keys.current, ...keys.previous];
  const parts = stored.split(":");
  if (parts.length === 5 && parts[0] === "v2") {
    const [, keyId, ...sealed] = parts as [string, string, string, string, string];
    const keyIndex = all.findIndex((key) => key.id === keyId);
    if (keyIndex < 0) throw new SecretDecryptionError(`it is under key ${keyId}, which is neither the current encryption key (${keys.current.id}) nor a previous one`);
    const secret = decipher(all[keyIndex]!, sealed, `v2:${keyId}`);
    if (secret === undefined) throw new SecretDecryptionError(`authentication failed under key ${keyId} (a tampered value)`);
    return { secret, keyIndex, format: "v2" };
  }
  if (parts.length === 4 && parts[0] === "v1") {
    for (const [keyIndex, key] of all.entries()) {
      const secret = decipher(key, parts.slice(1), null);
      if (secret !== undefined) return { secret, keyIndex, format: "v1" };
    }
    throw new SecretDecryptionError("authentication failed under every encryption key given (a key it was written under is missing, or the value was tampered with)");
  }
  throw new SecretDecryptionError("unknown storage format");
}

/** The plain text, or undefined when the key does not open it (GCM's tag does not match). */
function decipher(key: DerivedKey, sealed: string[], header: string | null): string | undefined {
  const [iv, tag, ciphertext] = sealed.map((part) => Buffer.from(part, "base64")) as [Buffer, Buffer, Buffer];
  if (iv.length !== ivBytes || tag.length !== tagBytes) throw new SecretDecryptionError("malformed IV or tag");
  try {
    const aes = createDecipheriv("aes-256-gcm", key.aesKey, iv);
    if (header !== null) aes.setAAD(Buffer.from(header));
    aes.setAuthTag(tag);
    return Buffer.concat([aes.update(ciphertext), aes.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
