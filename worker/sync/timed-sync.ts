// ffjob_sync_seconds: how long training waited for its replicas in one step, i.e. the time
// spent in the step's gradients and afterStep calls, observed once per step. An epoch's
// closing work (DASO's blocking average, the loss agreement) is one more observation.
import type { RingMember } from './collectives.js';
import type { GroupParameters, SyncStrategy, VectorLayout } from './strategy.js';

/** SyncTimer is where the seconds go (WorkerMetrics). */
export interface SyncTimer {
  recordSync(strategy: SyncStrategy['name'], seconds: number): void;
}

export class TimedSync implements SyncStrategy, RingMember {
  readonly name: SyncStrategy['name'];
  readonly ringSpecs: RingMember['ringSpecs'];
  readonly membership: SyncStrategy['membership'];
  readonly returnsDirection: SyncStrategy['returnsDirection'];
  readonly rejoin: SyncStrategy['rejoin'];
  private waited = 0;

  constructor(
    private readonly inner: SyncStrategy & RingMember,
    private readonly timer: SyncTimer,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.name = inner.name;
    this.ringSpecs = inner.ringSpecs;
    this.membership = inner.membership;
    this.returnsDirection = inner.returnsDirection;
    this.rejoin = inner.rejoin?.bind(inner);
  }

  async gradients(step: number, grads: Float32Array, layout: VectorLayout): Promise<Float32Array> {
    const start = this.now();
    try {
      return await this.inner.gradients(step, grads, layout);
    } finally {
      this.waited += this.now() - start;
    }
  }

  async afterStep(step: number, params: GroupParameters): Promise<void> {
    const start = this.now();
    await this.inner.afterStep(step, params);
    this.timer.recordSync(this.name, this.waited + this.now() - start);
    this.waited = 0;
  }

  async endEpoch(epoch: number, loss: number): Promise<void> {
    const start = this.now();
    await this.inner.endEpoch(epoch, loss);
    this.timer.recordSync(this.name, this.now() - start);
  }
}
