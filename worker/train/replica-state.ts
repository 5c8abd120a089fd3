// A group's whole state between steps (the checkpoint's tensors: every layer's parameters,
// optimizer moments and step counts, the readout's, the negatives' tables) as one vector, for
// a replica that rejoins its group to take from a live one (worker/sync/membership.ts).
import type { NamedTensor } from '../named-tensor.js';
import type { ReplicaState } from '../sync/membership.js';
import type { GroupTrainer } from './group-trainer.js';

export function replicaState(trainer: Pick<GroupTrainer, 'stateBeforeStep' | 'restoreCheckpoint'>): ReplicaState {
  // The layout of the last read: every replica of a group holds the same tensors.
  let layout: Omit<NamedTensor, 'values'>[] = [];
  return {
    async read() {
      // Mid-step, as a live replica is when a joiner asks: the state the step started from.
      const tensors = await trainer.stateBeforeStep();
      layout = tensors.map(({ name, shape }) => ({ name, shape }));
      const out = new Float32Array(tensors.reduce((n, t) => n + t.values.length, 0));
      let offset = 0;
      for (const t of tensors) {
        out.set(t.values, offset);
        offset += t.values.length;
      }
      return out;
    },
    write(values) {
      let offset = 0;
      const tensors = layout.map(({ name, shape }) => {
        const size = shape.reduce((n, d) => n * d, 1);
        const t = { name, shape, values: values.slice(offset, offset + size) };
        offset += size;
        return t;
      });
      if (offset !== values.length) throw new Error(`replica state: ${values.length} values, this group holds ${offset}`);
      trainer.restoreCheckpoint(tensors);
    },
  };
}
