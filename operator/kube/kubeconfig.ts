// Where the API server is and how to authenticate: a kubeconfig file (its current context)
// or, inside a pod, the service account. @kubernetes/client-node's KubeConfig does this
// too, but importing its runtime loads its whole generated API (about 135 MiB of RSS under
// tsx, 67 MiB under plain node), which alone would break the operator's 150 MiB budget; its
// types are still used everywhere (import type, erased at run time).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Connection is everything a request needs to reach and authenticate to the API server. */
export interface Connection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTLSVerify?: boolean;
  /** token returns the bearer token, re-read when it comes from a file (bound tokens rotate). */
  token?: () => string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Fields = Record<string, unknown>;

function fileToken(path: string): () => string {
  let cached = '';
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      cached = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return cached;
  };
}

function dataOrFile(fields: Fields, key: string): Buffer | undefined {
  const data = fields[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const file = fields[key];
  return typeof file === 'string' ? readFileSync(file) : undefined;
}

function pick(list: unknown, name: unknown, kind: 'cluster' | 'user' | 'context'): Fields {
  const found = (Array.isArray(list) ? (list as Named<Fields>[]) : []).find((e) => e.name === name);
  const fields = found?.[kind];
  if (!fields) throw new Error(`kubeconfig: ${kind} "${String(name)}" not found`);
  return fields;
}

/** fromKubeconfig reads a kubeconfig file's current context. */
export function fromKubeconfig(path: string): Connection {
  const doc = parse(readFileSync(path, 'utf8')) as Fields;
  const context = pick(doc.contexts, doc['current-context'], 'context');
  const cluster = pick(doc.clusters, context.cluster, 'cluster');
  const user = pick(doc.users, context.user, 'user');
  if (user.exec || user['auth-provider'])
    throw new Error('kubeconfig: exec and auth-provider credentials are not supported; use a token or client certificate');
  const conn: Connection = { server: String(cluster.server) };
  const ca = dataOrFile(cluster, 'certificate-authority');
  const cert = dataOrFile(user, 'client-certificate');
  const key = dataOrFile(user, 'client-key');
  if (ca) conn.ca = ca;
  if (cert) conn.cert = cert;
  if (key) conn.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) conn.insecureSkipTLSVerify = true;
  if (typeof user.token === 'string') {
    const token = user.token;
    conn.token = () => token;
  } else if (typeof user.tokenFile === 'string') conn.token = fileToken(user.tokenFile);
  return conn;
}

/** inCluster uses the pod's service account. */
export function inCluster(): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SA_DIR, 'ca.crt')),
    token: fileToken(join(SA_DIR, 'token')),
  };
}

/** loadConnection: the given kubeconfig, else in-cluster, else $KUBECONFIG or ~/.kube/config. */
export function loadConnection(file?: string): Connection {
  if (file) return fromKubeconfig(file);
  if (process.env.KUBERNETES_SERVICE_HOST) return inCluster();
  const fromEnv = process.env.KUBECONFIG?.split(':').find((p) => p !== '');
  return fromKubeconfig(fromEnv ?? join(homedir(), '.kube', 'config'));
}
