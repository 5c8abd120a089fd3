// A receiver's reason to refuse a stream, carrying the gRPC status the sender will see.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

export class Refusal extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

/** toServiceError keeps a Refusal's code; anything else is our bug, so INTERNAL. */
export function toServiceError(error: unknown): ServiceError {
  const code = error instanceof Refusal ? error.code : status.INTERNAL;
  const details = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}
