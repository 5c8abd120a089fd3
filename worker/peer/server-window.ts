// grpc-js 1.14 applies 'grpc-node.flow_control_window' to channels only (grpc/grpc-node#3058
// proposes the same for servers), so a Server receives under Node's 64 KiB HTTP/2 windows:
// a 1 MB activation batch from a client crossed in 16+ window round trips, each waking both
// peer threads. Streaming 300 batches of 1.2 MB over loopback cost client and server 1.1 to
// 1.3 s of CPU together under those windows and 0.55 s under 16 MiB ones. This does from
// outside what that pull request does inside: the server's SETTINGS advertise the stream
// window, and each session raises its connection window.
import type { Http2Server, Http2Session, ServerOptions } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** The fields of grpc-js's Server this relies on (private in its typings). */
interface ServerInternals {
  commonServerOptions?: ServerOptions;
  http2Servers?: Map<Http2Server, unknown>;
}

function internals(server: Server): Required<ServerInternals> {
  const { commonServerOptions, http2Servers } = server as unknown as ServerInternals;
  if (commonServerOptions === undefined || !(http2Servers instanceof Map)) {
    throw new Error('@grpc/grpc-js Server no longer has commonServerOptions and http2Servers: see worker/peer/server-window.ts');
  }
  return { commonServerOptions, http2Servers };
}

/** Before bindAsync: the window each stream a client opens may fill. */
export function advertiseStreamWindow(server: Server, bytes: number): void {
  const options = internals(server).commonServerOptions;
  options.settings = { ...options.settings, initialWindowSize: bytes };
}

/** After bindAsync: the window all of a connection's streams share. */
export function widenConnectionWindows(server: Server, bytes: number): void {
  for (const http2Server of internals(server).http2Servers.keys()) {
    http2Server.on('session', (session: Http2Session) => session.setLocalWindowSize(bytes));
  }
}
