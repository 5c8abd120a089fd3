// The worker's HTTP side: Prometheus scrapes /metrics, the kubelet probes /healthz and
// /readyz, and people (and the local runner) read /status.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './metrics.js';

export interface ObservabilityOptions {
  host: string;
  /** port 0 lets the OS pick a free one; the chosen port is returned. */
  port: number;
  metrics: MetricsSource;
  status: () => object;
  /** ready says whether the worker should receive traffic, e.g. its gRPC peer is up. */
  ready: () => boolean;
}

export interface ObservabilityServer {
  port: number;
  close(): Promise<void>;
}

/** startObservabilityServer listens on host:port and resolves once it accepts connections. */
export async function startObservabilityServer(options: ObservabilityOptions): Promise<ObservabilityServer> {
  const server = createServer((req, res) => {
    route(options, req, res).catch((err: unknown) => reply(res, 500, 'text/plain', `${(err as Error).message}\n`));
  });
  await listen(server, options.host, options.port);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Scrapers keep connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function route(options: ObservabilityOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return reply(res, 405, 'text/plain', 'method not allowed\n');
  }
  switch (new URL(req.url ?? '/', 'http://localhost').pathname) {
    case '/metrics':
      return reply(res, 200, options.metrics.contentType, await options.metrics.text());
    case '/healthz':
      return reply(res, 200, 'text/plain', 'ok\n');
    case '/readyz':
      return options.ready() ? reply(res, 200, 'text/plain', 'ready\n') : reply(res, 503, 'text/plain', 'not ready\n');
    case '/status':
      return reply(res, 200, 'application/json', JSON.stringify(options.status()) + '\n');
    default:
      return reply(res, 404, 'text/plain', 'not found: try /metrics, /healthz, /readyz or /status\n');
  }
}

function reply(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? `port ${port} is already in use` : err.message;
      reject(new Error(`cannot start the observability server on ${host}:${port}: ${why}`));
    });
    server.listen(port, host, () => resolve());
  });
}
