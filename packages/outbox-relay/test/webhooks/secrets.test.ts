import { describe, expect, it } from "vitest";
import { decryptSecret, EncryptionKeyMissingError, encryptSecret, generateSecret, SecretDecryptionError } from "../../src/webhooks/index.ts";

const key = "k".repeat(32) + "-test-encryption-key";

describe("webhook secrets", () => {
  it("are whsec_ + base64 of 32 random bytes, different every time", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it("are stored as version:iv:tag:ciphertext that neither is nor contains the plain secret", () => {
    const secret = generateSecret();
    const stored = encryptSecret(secret, key);
    expect(stored).toMatch(/^v1:[^:]+:[^:]+:[^:]+$/);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(6));
    expect(encryptSecret(secret, key)).not.toBe(stored);
    expect(decryptSecret(stored, key)).toBe(secret);
  });

  it("refuse to decrypt under a wrong key or when tampered with", () => {
    const stored = encryptSecret(generateSecret(), key);
    expect(() => decryptSecret(stored, "another key that is at least 32 chars")).toThrow(SecretDecryptionError);
    const [version, iv, tag, ciphertext] = stored.split(":") as [string, string, string, string];
    const flipped = Buffer.from(ciphertext, "base64");
    flipped[0]! ^= 1;
    expect(() => decryptSecret([version, iv, tag, flipped.toString("base64")].join(":"), key)).toThrow(SecretDecryptionError);
    expect(() => decryptSecret("not-a-stored-secret", key)).toThrow(/unknown storage format/);
  });

  it("need an encryption key: without it nothing is encrypted or decrypted", () => {
    expect(() => encryptSecret(generateSecret(), undefined)).toThrow(EncryptionKeyMissingError);
    expect(() => decryptSecret("v1:a:b:c", undefined)).toThrow(/no encryption key is set/);
  });
});
