// The main thread's side of the ring collectives: hands the vector to the peer thread (its
// buffer moves, no copy) and waits for the answer, so the training loop can compute while
// the collective runs.
import type { CollectiveKind } from '../sync/ring-schedule.js';
import type { CollectiveCall } from './ring-collective.js';
import type { RingSpec } from '../sync/ring-spec.js';

export interface CollectiveCommand extends CollectiveCall {
  type: 'collective';
  id: number;
  values: Float32Array;
}

export type CollectiveAnswer =
  | { type: 'collective-done'; id: number; values: Float32Array; bytes: number; seconds: number }
  | { type: 'collective-failed'; id: number; message: string };

/** What one collective sent, for ffjob_sync_bytes_total: the caller maps the ring's tag to a scope. */
export interface RingSent {
  tag: string;
  kind: CollectiveKind;
  round: number;
  /** Float32 payload bytes this member sent. */
  bytes: number;
  seconds: number;
}

export interface Collectives {
  /** The element-wise MEAN over the ring's members of each member's `values` (buffer moves to the thread). */
  allreduce(ring: RingSpec, round: number, values: Float32Array): Promise<Float32Array>;
  /** members[root]'s values, on every member (the others pass an array of the same length, ignored). */
  broadcast(ring: RingSpec, root: number, round: number, values: Float32Array): Promise<Float32Array>;
}

export interface CollectiveDesk extends Collectives {
  answer(message: CollectiveAnswer): void;
  /** Fails every collective still waiting (the thread closed or died). */
  abort(reason: string): void;
}

export function createCollectiveDesk(
  post: (command: CollectiveCommand, transfer: ArrayBuffer[]) => void,
  onSent: ((report: RingSent) => void) | undefined,
): CollectiveDesk {
  const waiting = new Map<
    number,
    { report: Omit<RingSent, 'bytes' | 'seconds'>; resolve(v: Float32Array): void; reject(e: Error): void }
  >();
  let nextId = 0;
  const run = (call: CollectiveCall, values: Float32Array): Promise<Float32Array> => {
    const id = nextId++;
    // Only a buffer the array has to itself can move; a view into a bigger one is copied.
    const whole = values.buffer instanceof ArrayBuffer && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
    const owned = whole ? values : values.slice();
    return new Promise((resolve, reject) => {
      waiting.set(id, { report: { tag: call.ring.tag, kind: call.kind, round: call.round }, resolve, reject });
      post({ type: 'collective', id, ...call, values: owned }, [owned.buffer as ArrayBuffer]);
    });
  };
  return {
    allreduce: (ring, round, values) => run({ kind: 'allreduce', ring, root: 0, round }, values),
    broadcast: (ring, root, round, values) => run({ kind: 'broadcast', ring, root, round }, values),
    answer(message) {
      const w = waiting.get(message.id);
      if (w === undefined) return;
      waiting.delete(message.id);
      if (message.type === 'collective-failed') return w.reject(new Error(message.message));
      onSent?.({ ...w.report, bytes: message.bytes, seconds: message.seconds });
      w.resolve(message.values);
    },
    abort(reason) {
      for (const w of waiting.values())
        w.reject(new Error(`${w.report.kind} round ${w.report.round} of ring "${w.report.tag}": ${reason}`));
      waiting.clear();
    },
  };
}
