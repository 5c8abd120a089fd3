// Test builders: small fluent constructors for jobs and observed pods, so a test states
// only what it is about (makeJob('j', 'ns').workers(2).obj()).
import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, defaultSpec, KIND, type ForwardForwardJob, type ForwardForwardJobSpecInput } from '../api/v1alpha1/index.js';
import { ATTEMPT_LABEL, CONTAINER_NAME, GROUP_LABEL, JOB_NAME_LABEL, REPLICA_LABEL } from '../controller/labels.js';

type Input = ForwardForwardJobSpecInput;

/** JobBuilder builds a defaulted ForwardForwardJob. */
export class JobBuilder {
  private readonly input: Input = { model: { layers: [64, 64, 64, 64] } };
  private readonly job: Omit<ForwardForwardJob, 'spec'>;

  constructor(name: string, namespace: string) {
    this.job = { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace, uid: `uid-${name}`, generation: 1 } };
  }

  layers(...widths: number[]): this {
    this.input.model.layers = widths;
    return this;
  }

  workers(n: number): this {
    this.input.parallelism = { ...this.input.parallelism, workers: n };
    return this;
  }

  replicas(n: number): this {
    this.input.parallelism = { ...this.input.parallelism, replicasPerGroup: n };
    return this;
  }

  worker(w: NonNullable<Input['worker']>): this {
    this.input.worker = { ...this.input.worker, ...w };
    return this;
  }

  runPolicy(p: NonNullable<Input['runPolicy']>): this {
    this.input.runPolicy = { ...this.input.runPolicy, ...p };
    return this;
  }

  checkpoint(c: NonNullable<Input['checkpoint']>): this {
    this.input.checkpoint = c;
    return this;
  }

  status(s: ForwardForwardJob['status']): this {
    this.job.status = s;
    return this;
  }

  generation(g: number): this {
    this.job.metadata.generation = g;
    return this;
  }

  obj(): ForwardForwardJob {
    return structuredClone({ ...this.job, spec: defaultSpec(this.input) });
  }
}

/** makeJob starts a job builder with four layers and otherwise default spec. */
export function makeJob(name: string, namespace: string): JobBuilder {
  return new JobBuilder(name, namespace);
}

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

  private status(state: NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number]['state']): NonNullable<
    NonNullable<V1Pod['status']>['containerStatuses']
  >[number] {
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
