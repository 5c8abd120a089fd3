// The objects beside a job's pods (ConfigMap, token Secret, headless Service, NetworkPolicy)
// are applied with server-side apply on every reconcile of an active job, under the
// operator's one field manager, as kubeflow/trainer does: one deleted or edited by hand comes
// back on the next pass instead of being trusted from memory. Apply sends the whole desired
// object and the API server writes only when a field the operator owns differs.
//
// The token is the exception to "desired is a pure function of the job": it is random, and
// running workers hold it, so a live job's token is read back from its Secret (or, if the
// Secret was deleted, from the operator's memory) and only a new job gets a fresh one.
import { randomBytes } from 'node:crypto';
import type { V1NetworkPolicyPeer, V1Secret } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { PATCH_TYPES, type Kube } from '../kube/client.js';
import { ignoreNotFound } from '../kube/ignore.js';
import { desiredConfigMap, desiredNetworkPolicy, desiredSecret, desiredService, TOKEN_KEY } from './desired.js';
import { secretName } from './labels.js';

/** FIELD_MANAGER is the name the operator writes every object under. */
export const FIELD_MANAGER = 'ffjob-operator';

/** Supporting is one object to apply: its kind and name (for messages) and where it lives. */
export interface Supporting {
  kind: string;
  name: string;
  path: string;
  body: { metadata?: { name?: string } };
}

const CORE = '/api/v1';
const KINDS = {
  ConfigMap: { api: CORE, resource: 'configmaps' },
  Secret: { api: CORE, resource: 'secrets' },
  Service: { api: CORE, resource: 'services' },
  NetworkPolicy: { api: '/apis/networking.k8s.io/v1', resource: 'networkpolicies' },
} as const;

function at(job: ForwardForwardJob, kind: keyof typeof KINDS, body: Supporting['body']): Supporting {
  const name = body.metadata?.name ?? '';
  const { api, resource } = KINDS[kind];
  return { kind, name, path: `${api}/namespaces/${job.metadata.namespace}/${resource}/${name}`, body };
}

/** supportingObjects lists what applySupporting writes; the NetworkPolicy only when `metricsPeers` is set. */
export function supportingObjects(job: ForwardForwardJob, token: string, metricsPeers?: readonly V1NetworkPolicyPeer[]): Supporting[] {
  return [
    at(job, 'ConfigMap', desiredConfigMap(job)),
    at(job, 'Secret', desiredSecret(job, token)),
    at(job, 'Service', desiredService(job)),
    ...(metricsPeers ? [at(job, 'NetworkPolicy', desiredNetworkPolicy(job, metricsPeers))] : []),
  ];
}

/** apply writes one object by server-side apply; `force` takes over fields another manager edited. */
export function apply(kube: Kube, object: Supporting): Promise<unknown> {
  return kube.request('PATCH', object.path, {
    body: object.body,
    contentType: PATCH_TYPES.apply,
    query: { fieldManager: FIELD_MANAGER, force: true },
  });
}

/** TokenKeeper remembers each live job's token, so it survives its Secret being deleted. */
export class TokenKeeper {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly kube: Kube) {}

  /** token is the job's token: its Secret's, else the one remembered, else a new one. */
  async token(job: ForwardForwardJob): Promise<string> {
    const uid = job.metadata.uid ?? '';
    const path = `${CORE}/namespaces/${job.metadata.namespace}/secrets/${secretName(job.metadata.name ?? '')}`;
    const secret = await ignoreNotFound(this.kube.request<V1Secret>('GET', path));
    const stored = secret?.data?.[TOKEN_KEY];
    const token = stored ? Buffer.from(stored, 'base64').toString() : (this.tokens.get(uid) ?? randomBytes(32).toString('base64url'));
    this.tokens.set(uid, token);
    return token;
  }

  /** forget drops a finished job's token. */
  forget(job: ForwardForwardJob): void {
    this.tokens.delete(job.metadata.uid ?? '');
  }
}
