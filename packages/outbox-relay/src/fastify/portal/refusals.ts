import {
  EncryptionKeyMissingError,
  EndpointDisabledError,
  EndpointLimitError,
  EndpointNotFoundError,
  InvalidEndpointError,
  MessageNotFoundError,
  PortalKeyMissingError,
} from "../../webhooks/index.ts";
import { Refusal } from "../errors.ts";

/** The status each refusal of outbox-relay/webhooks answers with on a portal page. */
const statuses: [new (...args: never[]) => Error & { code: string }, number][] = [
  [InvalidEndpointError, 400],
  [EndpointNotFoundError, 404],
  [MessageNotFoundError, 404],
  [EndpointLimitError, 409],
  [EndpointDisabledError, 409],
  [EncryptionKeyMissingError, 503],
  [PortalKeyMissingError, 503],
];

/** The refusal an error stands for on a portal page (its status, code and the message the tenant reads); undefined for a failure. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof Refusal) return error;
  for (const [type, status] of statuses) if (error instanceof type) return new Refusal(status, error.code, error.message);
  return undefined;
}
