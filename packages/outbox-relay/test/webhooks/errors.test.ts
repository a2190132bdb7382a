import { describe, expect, it } from "vitest";
import {
  AddressRefusedError,
  DeliveryFailedError,
  EncryptionKeyMissingError,
  EndpointDisabledError,
  EndpointLimitError,
  EndpointNotFoundError,
  InvalidEndpointError,
  MessageNotFoundError,
  PortalKeyMissingError,
  ResendTooManyError,
  SecretDecryptionError,
  webhookErrorCodes,
} from "../../src/webhooks/index.ts";

describe("webhook error codes", () => {
  it("are each documented in the registry", () => {
    const errors = [
      new EncryptionKeyMissingError(),
      new SecretDecryptionError("x"),
      new InvalidEndpointError([{ path: "url", message: "x" }]),
      new AddressRefusedError("h", "127.0.0.1", "loopback"),
      new EndpointNotFoundError("e"),
      new EndpointDisabledError("e", null),
      new EndpointLimitError(10),
      new MessageNotFoundError("e", "m"),
      new DeliveryFailedError("x", 500),
      new PortalKeyMissingError(),
      new ResendTooManyError(10_001, 10_000),
    ];
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(Object.keys(webhookErrorCodes)));
  });
});
