// A small JSON client for the Kubernetes REST API, typed with @kubernetes/client-node's
// models: requests go through node:https so that every call shares one keep-alive agent,
// error statuses arrive as typed KubeErrors, and watches stream line by line.
import { Agent, request, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { Connection } from './kubeconfig.js';

export { loadConnection, type Connection } from './kubeconfig.js';

/** KubeError is a non-2xx answer; `code` is the HTTP status, `reason` the Status reason (NotFound, AlreadyExists…). */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  /** causes are the Status details' field errors (a 422's one per invalid field). */
  readonly causes: { field?: string; message?: string; reason?: string }[];

  constructor(code: number, reason: string, message: string, causes: KubeError['causes'] = []) {
    super(message);
    this.name = 'KubeError';
    this.code = code;
    this.reason = reason;
    this.causes = causes;
  }
}

/** isStatus says whether `err` is a KubeError with one of the given HTTP codes. */
export function isStatus(err: unknown, ...codes: number[]): boolean {
  return err instanceof KubeError && codes.includes(err.code);
}

/** PATCH_TYPES are the content types of the patch flavours used here; `apply` is server-side apply (JSON is YAML). */
export const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface RequestInit {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/** WatchEvent is one line of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Kube is what the operator needs from the API server. */
export interface Kube {
  request<T>(method: string, path: string, init?: RequestInit): Promise<T>;
  /** watch streams events to onEvent and resolves when the server ends the stream. */
  watch<T>(path: string, query: RequestInit['query'], onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

function url(server: string, path: string, query: RequestInit['query']): URL {
  const u = new URL(server.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u;
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

function toError(code: number, text: string): KubeError {
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string; details?: { causes?: KubeError['causes'] } };
    return new KubeError(code, status.reason ?? '', status.message ?? text, status.details?.causes);
  } catch {
    return new KubeError(code, '', text || `HTTP ${code}`);
  }
}

/** createKube builds a client for one API server. */
export function createKube(conn: Connection): Kube {
  const secure = conn.server.startsWith('https:');
  const tls = { ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTLSVerify };
  const agent = secure ? new Agent({ ...tls, keepAlive: true, maxSockets: 32 }) : undefined;

  const open = (method: string, path: string, init: RequestInit): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = conn.token?.();
      if (token) headers.authorization = `Bearer ${token}`;
      const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
      if (payload !== undefined) {
        headers['content-type'] = init.contentType ?? 'application/json';
        // Node frames a body by default only for POST, PUT and PATCH: without a length, a
        // DELETE's options never reach the server, which reads them as the next request.
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      const options: RequestOptions = { method, headers, ...(agent ? { agent } : {}), ...(init.signal ? { signal: init.signal } : {}) };
      const req = (secure ? request : httpRequest)(url(conn.server, path, init.query), options, resolve);
      req.on('error', reject);
      req.end(payload);
    });

  return {
    async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
      const res = await open(method, path, init);
      const text = await readAll(res);
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw toError(code, text);
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watch<T>(path: string, query: RequestInit['query'], onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
      const res = await open('GET', path, { query: { ...query, watch: true }, signal });
      const code = res.statusCode ?? 0;
      if (code !== 200) throw toError(code, await readAll(res));
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      try {
        for await (const line of lines) if (line.trim() !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
      } catch (err) {
        if (!signal.aborted) throw err;
      } finally {
        res.destroy();
      }
    },
  };
}
