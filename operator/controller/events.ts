// Kubernetes events about a job (core/v1 Events, which `kubectl describe` lists). Writing
// one is best effort: a lost event must never fail a reconcile. Messages are capped as
// conditions' are: an API server's refusal can quote a whole object.
import { randomBytes } from 'node:crypto';
import type { ForwardForwardJob } from '../api/v1alpha1/index.js';
import type { Kube } from '../kube/client.js';
import { boundMessage } from './conditions.js';
import type { Logger } from '../../worker/observe/log.js';

/** JobEvent is one event to record. */
export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** COMPONENT is the events' source. */
export const COMPONENT = 'ffjob-operator';

/** recordEvents writes `events` about `job`, logging (not throwing) failures. */
export async function recordEvents(kube: Kube, job: ForwardForwardJob, events: readonly JobEvent[], log: Logger): Promise<void> {
  const ns = job.metadata.namespace ?? 'default';
  const name = job.metadata.name ?? '';
  const now = new Date().toISOString();
  await Promise.all(
    events.map(async (e) => {
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace: ns },
        involvedObject: { apiVersion: job.apiVersion, kind: job.kind, name, namespace: ns, uid: job.metadata.uid },
        type: e.type,
        reason: e.reason,
        message: boundMessage(e.message),
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: process.env.HOSTNAME ?? COMPONENT,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      try {
        await kube.request('POST', `/api/v1/namespaces/${ns}/events`, { body });
      } catch (err) {
        log.warn('could not record event', { job: `${ns}/${name}`, reason: e.reason, err: err as Error });
      }
    }),
  );
}
