import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { EncryptionKeyMissingError, SecretDecryptionError } from "./errors.ts";

/** Standard Webhooks' prefix for symmetric (HMAC-SHA256) secrets. */
export const secretPrefix = "whsec_";
const secretBytes = 32;
const formatVersion = "v1";
const ivBytes = 12;
const tagBytes = 16;

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

/**
 * The AES-256 key: HKDF-SHA256 over the encryption key's bytes, so any string of 32+ characters gives
 * a uniformly random 32-byte key, and the key is bound to this one use.
 */
function deriveKey(encryptionKey: string | undefined): Buffer {
  if (!encryptionKey) throw new EncryptionKeyMissingError();
  // The salt and info are part of every stored secret: changing them makes all of them unreadable.
  return Buffer.from(hkdfSync("sha256", encryptionKey, "outbox-webhooks", "webhook signing secret v1", 32));
}

/** AES-256-GCM with a random 12-byte IV; stored as `v1:<iv>:<tag>:<ciphertext>` (base64 parts). */
export function encryptSecret(secret: string, encryptionKey: string | undefined): string {
  const key = deriveKey(encryptionKey);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [formatVersion, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
}

/** Throws SecretDecryptionError on a wrong key, a tampered value or an unknown format; never returns garbage. */
export function decryptSecret(stored: string, encryptionKey: string | undefined): string {
  const key = deriveKey(encryptionKey);
  const parts = stored.split(":");
  if (parts.length !== 4 || parts[0] !== formatVersion) throw new SecretDecryptionError("unknown storage format");
  const [, iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, "base64")) as [Buffer, Buffer, Buffer, Buffer];
  if (iv.length !== ivBytes || tag.length !== tagBytes) throw new SecretDecryptionError("malformed IV or tag");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch (error) {
    throw new SecretDecryptionError("authentication failed (wrong encryption key or tampered value)", { cause: error });
  }
}
