import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateSecret } from "../../src/webhooks/secrets.ts";
import { signatureHeader } from "../../src/webhooks/signing.ts";

const id = "2f1c6a8e-4c1b-4c44-9a57-0b7e3c1d2e3f";
const body = JSON.stringify({ type: "order.created", timestamp: "2026-01-01T00:00:00.000Z", data: { orderId: "o-1" } });

function headers(signature: string, timestamp: number) {
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
}

describe("Standard Webhooks signatures, checked by the standardwebhooks package", () => {
  it("verify for the signed body and fail for a tampered one", () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const signature = signatureHeader([secret], id, now, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers(signature, now))).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace("o-1", "o-2"), headers(signature, now))).toThrow(/No matching signature/);
    expect(() => new Webhook(generateSecret()).verify(body, headers(signature, now))).toThrow(/No matching signature/);
  });

  it("fail for an old timestamp", () => {
    const secret = generateSecret();
    const old = Math.floor(Date.now() / 1000) - 10 * 60;
    expect(() => new Webhook(secret).verify(body, headers(signatureHeader([secret], id, old, body), old))).toThrow(/too old/);
  });

  it("carry one signature per secret, so either of two rotated secrets verifies", () => {
    const current = generateSecret();
    const previous = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const signature = signatureHeader([current, previous], id, now, body);
    expect(signature.split(" ")).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers(signature, now))).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers(signature, now))).not.toThrow();
  });
});
