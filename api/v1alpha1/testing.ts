// Test builder for jobs: a small fluent constructor, so a test states only what it is about
// (makeJob('j', 'ns').workers(2).obj()). Shared by the operator's, the CLI's and the worker's tests.
import { API_VERSION, defaultSpec, KIND, type ForwardForwardJob, type ForwardForwardJobSpecInput } from './index.js';

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

  dataset(d: NonNullable<Input['dataset']>): this {
    this.input.dataset = d;
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
