// Test builder for observed pods, as the kubelet would report them (makePod('j', 0).running().obj()).
import type { V1Pod } from '@kubernetes/client-node';
import { ATTEMPT_LABEL, CONTAINER_NAME, GROUP_LABEL, JOB_NAME_LABEL, REPLICA_LABEL } from '../controller/labels.js';

/** PodBuilder builds a pod as the kubelet would report it. */
export class PodBuilder {
  private readonly pod: V1Pod;

  constructor(job: string, group: number, replica = 0) {
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job}-g${group}-r${replica}`,
        creationTimestamp: new Date(0),
        labels: { [JOB_NAME_LABEL]: job, [GROUP_LABEL]: String(group), [REPLICA_LABEL]: String(replica), [ATTEMPT_LABEL]: '0' },
      },
      spec: { containers: [{ name: CONTAINER_NAME }] },
      status: { phase: 'Pending' },
    };
  }

  created(at: Date): this {
    this.pod.metadata!.creationTimestamp = at;
    return this;
  }

  attempt(n: number): this {
    this.pod.metadata!.labels![ATTEMPT_LABEL] = String(n);
    return this;
  }

  running(ready = true): this {
    this.pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
    return this;
  }

  waiting(reason: string): this {
    this.pod.status = { phase: 'Pending', containerStatuses: [this.status({ waiting: { reason } })] };
    return this;
  }

  succeeded(message = '', at = new Date(0)): this {
    this.pod.status = { phase: 'Succeeded', containerStatuses: [this.status({ terminated: { exitCode: 0, message, finishedAt: at } })] };
    return this;
  }

  failed(exitCode = 1, at = new Date(0), reason = 'Error', message = ''): this {
    this.pod.status = { phase: 'Failed', containerStatuses: [this.status({ terminated: { exitCode, reason, message, finishedAt: at } })] };
    return this;
  }

  deleting(): this {
    this.pod.metadata!.deletionTimestamp = new Date(0);
    return this;
  }

  private status(
    state: NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number]['state'],
  ): NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number] {
    return { name: CONTAINER_NAME, image: 'img', imageID: '', ready: false, restartCount: 0, state };
  }

  obj(): V1Pod {
    return structuredClone(this.pod);
  }
}

/** makePod builds the pod of `job`'s group and replica, Pending until told otherwise. */
export function makePod(job: string, group: number, replica = 0): PodBuilder {
  return new PodBuilder(job, group, replica);
}
