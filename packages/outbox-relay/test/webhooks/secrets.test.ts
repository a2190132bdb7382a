import { describe, expect, it } from "vitest";
import { decryptSecret, EncryptionKeyMissingError, encryptionKeyId, encryptSecret, generateSecret, SecretDecryptionError } from "../../src/webhooks/index.ts";
import { encryptSecretV1 } from "./fixtures.ts";

const key = "k".repeat(32) + "-test-encryption-key";
const oldKey = "o".repeat(32) + "-the-previous-key";
const olderKey = "p".repeat(32) + "-the-key-before-that";

describe("webhook secrets", () => {
  it("are whsec_ + base64 of 32 random bytes, different every time", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it("are stored as v2:keyId:iv:tag:ciphertext that neither is nor contains the plain secret", () => {
    const secret = generateSecret();
    const stored = encryptSecret(secret, key);
    expect(stored).toMatch(/^v2:[0-9a-f]{12}:[^:]+:[^:]+:[^:]+$/);
    expect(stored.split(":")[1]).toBe(encryptionKeyId(key));
    expect(encryptionKeyId(oldKey)).not.toBe(encryptionKeyId(key));
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(6));
    expect(encryptSecret(secret, key)).not.toBe(stored);
    expect(decryptSecret(stored, key)).toBe(secret);
  });

  it("refuse to decrypt under a wrong key or when tampered with", () => {
    const stored = encryptSecret(generateSecret(), key);
    expect(() => decryptSecret(stored, "another key that is at least 32 chars")).toThrow(SecretDecryptionError);
    const [version, keyId, iv, tag, ciphertext] = stored.split(":") as [string, string, string, string, string];
    const flipped = Buffer.from(ciphertext, "base64");
    flipped[0]! ^= 1;
    expect(() => decryptSecret([version, keyId, iv, tag, flipped.toString("base64")].join(":"), key)).toThrow(/authentication failed under key/);
    // The key id is authenticated with the value: naming another known key does not open it.
    expect(() => decryptSecret([version, encryptionKeyId(oldKey), iv, tag, ciphertext].join(":"), key, [oldKey])).toThrow(SecretDecryptionError);
    expect(() => decryptSecret("not-a-stored-secret", key)).toThrow(/unknown storage format/);
  });

  it("are read under the current key or any previous one, and a value under none of them names its key id", () => {
    const secret = generateSecret();
    const underOld = encryptSecret(secret, oldKey);
    expect(decryptSecret(underOld, key, [olderKey, oldKey])).toBe(secret);
    expect(() => decryptSecret(underOld, key, [olderKey])).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(underOld, key, [olderKey])).toThrow(
      `webhook secret cannot be decrypted: it is under key ${encryptionKeyId(oldKey)}, which is neither the current encryption key (${encryptionKeyId(key)}) nor a previous one`,
    );
  });

  it("written before key ids (v1) are still read, by trying each key", () => {
    const secret = generateSecret();
    expect(decryptSecret(encryptSecretV1(secret, key), key)).toBe(secret);
    expect(decryptSecret(encryptSecretV1(secret, oldKey), key, [olderKey, oldKey])).toBe(secret);
    expect(() => decryptSecret(encryptSecretV1(secret, oldKey), key, [olderKey])).toThrow(/authentication failed under every encryption key given/);
  });

  it("need an encryption key: without it nothing is encrypted or decrypted", () => {
    expect(() => encryptSecret(generateSecret(), undefined)).toThrow(EncryptionKeyMissingError);
    expect(() => decryptSecret("v1:a:b:c", undefined)).toThrow(/no encryption key is set/);
  });
});
