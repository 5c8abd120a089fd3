// Signum (Bernstein et al. 2018): the momentum stays on the replica, and what it sends is
// the sign of m ← β·m + (1 − β)·g rather than of this step's gradient g, so a coordinate
// whose gradient is noise around a small mean sends the mean's sign more often than not.
// β = 0 is plain signSGD. The buffer goes into the replica's checkpoints (signsgd.ts).

export class SignumMomentum {
  private m: Float32Array | undefined;

  constructor(private readonly beta: number) {
    if (!(beta >= 0 && beta < 1)) throw new Error(`momentum: ${beta} is not in [0, 1)`);
  }

  /** update takes this step's gradients in and returns the momentum (a buffer it keeps: read it before the next update). */
  update(grads: Float32Array): Float32Array {
    const m = (this.m ??= new Float32Array(grads.length));
    if (m.length !== grads.length) throw new Error(`${grads.length} gradients, the momentum holds ${m.length}`);
    const b = this.beta;
    for (let i = 0; i < m.length; i++) m[i] = b * m[i]! + (1 - b) * grads[i]!;
    return m;
  }

  /** The momentum as it stands; undefined before the first update. */
  get values(): Float32Array | undefined {
    return this.m;
  }

  /** Goes on from `m`, a momentum a checkpoint kept. */
  restore(m: Float32Array): void {
    this.m = Float32Array.from(m);
  }
}
