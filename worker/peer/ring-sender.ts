// Sends ring chunks to the next member: one gRPC client per member address, shared by every
// ring and round of this peer thread, each chunk one unary call.
import { Client, credentials, status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { LayerExchangeServiceService } from '../../proto/gen/ff/v1/layer_exchange.js';
import { tokenMetadata } from './auth.js';
import { channelOptions, DEFAULT_LIMITS } from './limits.js';

export interface RingSender {
  /**
   * Sends one encoded SendRingChunkRequest; `done` gets the failure, if any. The call waits
   * for a member that is not up yet, until `deadline`.
   */
  send(target: string, frame: Buffer, deadline: number, done: (error?: Error) => void): ClientUnaryCall;
  close(): void;
}

export function createRingSender(token: string | undefined): RingSender {
  const clients = new Map<string, Client>();
  const client = (target: string): Client => {
    let c = clients.get(target);
    if (c === undefined) {
      c = new Client(target, credentials.createInsecure(), channelOptions(DEFAULT_LIMITS.maxFrameBytes));
      clients.set(target, c);
    }
    return c;
  };
  const { path, responseDeserialize } = LayerExchangeServiceService.sendRingChunk;
  return {
    send(target, frame, deadline, done) {
      const metadata = tokenMetadata(token);
      metadata.setOptions({ waitForReady: true });
      // The frame is already encoded (ring-wire.ts), so gRPC sends it as it is.
      return client(target).makeUnaryRequest(
        path,
        (b: Buffer) => b,
        responseDeserialize,
        frame,
        metadata,
        { deadline },
        (error) => done(error ? describe(error) : undefined),
      );
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}

function describe(error: ServiceError): Error {
  return Object.assign(new Error(`${status[error.code]}: ${error.details}`, { cause: error }), { code: error.code });
}
