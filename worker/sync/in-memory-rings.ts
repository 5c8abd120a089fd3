// An in-memory stand-in for the peer thread's ring collectives, for tests: R replicas in one
// process, each with its own RingCollectives. A collective completes when every member of its
// ring has called it, so a strategy that waits where it should not, or calls what its peers do
// not, hangs or fails here as it would on gRPC. Like the real transport it takes the buffers
// it is given (they are detached), so a caller that reuses one fails loudly, and a call with
// a time limit (RingSpec.timeoutMs) ends the collective for every member when it runs out.
import type { RingCollectives } from './collectives.js';
import { ringProblem, sameRing, type RingSpec } from './ring-spec.js';

/** CollectiveRecord is one completed collective, for tests to check who synchronised when. */
export interface CollectiveRecord {
  kind: 'allreduce' | 'broadcast';
  tag: string;
  round: number;
  members: string[];
}

interface Call {
  kind: CollectiveRecord['kind'];
  ring: RingSpec;
  root: number;
  round: number;
}

interface Gathering {
  kind: CollectiveRecord['kind'];
  members: string[];
  root: number;
  arrived: Map<number, Float32Array>;
  waiting: { resolve: (values: Float32Array) => void; reject: (err: Error) => void }[];
  timers: NodeJS.Timeout[];
}

/** InMemoryRings connects the replicas at `addresses`; `replica(r)` is replica r's view. */
export class InMemoryRings {
  readonly completed: CollectiveRecord[] = [];
  private readonly open = new Map<string, Gathering>();
  /** Collectives a member's time limit ended: a late member fails at once, as gRPC refuses a round already ended. */
  private readonly ended = new Set<string>();
  private readonly declared = new Map<string, readonly RingSpec[]>();

  constructor(private readonly addresses: string[]) {}

  /** pending is the number of collectives some member has called and others not yet. */
  get pending(): number {
    return this.open.size;
  }

  /** declare limits replica r to these rings, as the peer thread is started with its rings. */
  declare(r: number, rings: readonly RingSpec[]): void {
    this.declared.set(this.addresses[r]!, rings);
  }

  replica(r: number): RingCollectives {
    const self = this.addresses[r]!;
    return {
      allreduce: (ring, round, values) => this.join(self, { kind: 'allreduce', ring, root: 0, round }, values),
      broadcast: (ring, root, round, values) => this.join(self, { kind: 'broadcast', ring, root, round }, values),
    };
  }

  /** Throws what the transport would say to `self` calling on `ring`. */
  private checkCaller(self: string, ring: RingSpec): void {
    const problem = ringProblem(ring);
    if (problem !== undefined) throw new Error(problem);
    const declared = this.declared.get(self);
    if (declared && !declared.some((d) => sameRing(d, ring))) throw new Error(`ring "${ring.tag}": ${self} was not started with it`);
    if (ring.members[ring.rank] !== self)
      throw new Error(`${self} calls ${ring.tag} as rank ${ring.rank}, which is ${ring.members[ring.rank]}`);
  }

  private async join(self: string, call: Call, values: Float32Array): Promise<Float32Array> {
    const { kind, ring, root, round } = call;
    this.checkCaller(self, ring);
    const key = `${ring.tag}#${round}`;
    if (this.ended.has(key)) throw new Error(`${key}: already ended, a member's time limit ran out`);
    const g: Gathering = this.open.get(key) ?? { kind, members: ring.members, root, arrived: new Map(), waiting: [], timers: [] };
    if (g.kind !== kind || g.root !== root || g.members.join() !== ring.members.join()) {
      throw new Error(
        `${key}: ${self} calls ${kind} on [${ring.members.join()}] root ${root}, others ${g.kind} on [${g.members.join()}] root ${g.root}`,
      );
    }
    if (g.arrived.has(ring.rank)) throw new Error(`${key}: rank ${ring.rank} called twice`);
    g.arrived.set(ring.rank, structuredClone(values, { transfer: [values.buffer] }));
    this.open.set(key, g);
    const result = new Promise<Float32Array>((resolve, reject) => g.waiting.push({ resolve, reject }));
    const limit = ring.timeoutMs;
    if (limit !== undefined) g.timers.push(setTimeout(() => this.expire(key, g, limit), limit));
    if (g.arrived.size === g.members.length) this.complete(key, call, g);
    return await result;
  }

  private expire(key: string, g: Gathering, timeoutMs: number): void {
    if (this.open.get(key) !== g) return;
    this.open.delete(key);
    this.ended.add(key);
    for (const t of g.timers) clearTimeout(t);
    const err = new Error(`${key}: ${g.kind} did not finish within ${timeoutMs / 1000} s`);
    for (const { reject } of g.waiting) reject(err);
  }

  private complete(key: string, { ring, round }: Call, g: Gathering): void {
    this.open.delete(key);
    for (const t of g.timers) clearTimeout(t);
    this.completed.push({ kind: g.kind, tag: ring.tag, round, members: g.members });
    const inputs = [...g.arrived.values()];
    if (inputs.some((v) => v.length !== inputs[0]!.length)) {
      const err = new Error(`${key}: members sent ${inputs.map((v) => v.length).join(', ')} values`);
      for (const { reject } of g.waiting) reject(err);
      return;
    }
    const out = g.kind === 'broadcast' ? g.arrived.get(g.root)! : mean(inputs);
    // slice copies bytes, as the wire does: a broadcast's values may be other bytes viewed as float32 (signsgd.ts).
    for (const { resolve } of g.waiting) resolve(out.slice());
  }
}

function mean(inputs: Float32Array[]): Float32Array {
  const out = new Float32Array(inputs[0]!.length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const v of inputs) sum += v[i]!;
    out[i] = sum / inputs.length;
  }
  return out;
}
