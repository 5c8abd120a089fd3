// Kubernetes events about a job (core/v1 Events, which `kubectl describe` lists). Writing
// one is best effort: a lost event must never fail a reconcile. Messages are capped as
// conditions' are: an API server's refusal can quote a whole object.
//
// A refused write is retried with back-off and reported on every try, so, as client-go's
// EventRecorder does, an event that repeats one already written (same job, type, reason
// and message) raises that event's count and lastTimestamp instead of adding another.
import { randomBytes } from 'node:crypto';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { PATCH_TYPES, type Kube } from '../kube/client.js';
import { ignoreNotFound } from '../kube/ignore.js';
import type { Logger } from '../../observe/log.js';
import { boundMessage } from './conditions.js';

/** JobEvent is one event to record. */
export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** COMPONENT is the events' source. */
export const COMPONENT = 'ffjob-operator';

/** MAX_REMEMBERED bounds the events remembered for counting; the oldest is forgotten first. */
const MAX_REMEMBERED = 4096;

export class EventRecorder {
  // Key → the event written for it and its count so far, oldest first.
  private readonly written = new Map<string, { name: string; count: number }>();

  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
  ) {}

  /** record writes `events` about `job`, logging (not throwing) failures. */
  async record(job: ForwardForwardJob, events: readonly JobEvent[]): Promise<void> {
    const where = `${job.metadata.namespace}/${job.metadata.name}`;
    const failed =
      (e: JobEvent) =>
      (err: unknown): void =>
        this.log.warn('could not record event', { job: where, reason: e.reason, err: err as Error });
    await Promise.all(events.map((e) => this.one(job, e).catch(failed(e))));
  }

  private async one(job: ForwardForwardJob, e: JobEvent): Promise<void> {
    const ns = job.metadata.namespace ?? 'default';
    const event = { ...e, message: boundMessage(e.message) };
    const key = JSON.stringify([job.metadata.uid, event.type, event.reason, event.message]);
    const now = new Date().toISOString();
    const seen = this.written.get(key);
    if (seen && (await this.recount(ns, seen.name, seen.count + 1, now))) {
      this.remember(key, { name: seen.name, count: seen.count + 1 });
      return;
    }
    const name = `${job.metadata.name}.${randomBytes(8).toString('hex')}`;
    await this.kube.request('POST', `/api/v1/namespaces/${ns}/events`, { body: eventBody(job, event, name, now) });
    this.remember(key, { name, count: 1 });
  }

  // False when the API server has dropped the event (they expire after an hour): it is written anew.
  private async recount(ns: string, name: string, count: number, now: string): Promise<boolean> {
    const patch = this.kube.request('PATCH', `/api/v1/namespaces/${ns}/events/${name}`, {
      body: { count, lastTimestamp: now },
      contentType: PATCH_TYPES.merge,
    });
    return (await ignoreNotFound(patch)) !== undefined;
  }

  private remember(key: string, value: { name: string; count: number }): void {
    this.written.delete(key);
    this.written.set(key, value);
    if (this.written.size > MAX_REMEMBERED) this.written.delete(this.written.keys().next().value as string);
  }
}

function eventBody(job: ForwardForwardJob, { type, reason, message }: JobEvent, name: string, now: string): object {
  const ns = job.metadata.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: ns },
    involvedObject: { apiVersion: job.apiVersion, kind: job.kind, name: job.metadata.name, namespace: ns, uid: job.metadata.uid },
    type,
    reason,
    message,
    source: { component: COMPONENT },
    reportingComponent: COMPONENT,
    reportingInstance: process.env.HOSTNAME ?? COMPONENT,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
