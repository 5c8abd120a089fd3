// A strategy's own state in a checkpoint. Checkpoints hold float32 tensors only, which are
// exact for integers below 2^24; a count that may pass that (FV's agreement counts reach
// signs × steps) is kept as a high and a low part, each exact, so a resumed group counts on
// from the same integers.
import type { NamedTensor } from '../named-tensor.js';

const LOW = 2 ** 24;

/** counts (integers below 2^48) as one tensor of [high, low] pairs. */
export function countsTensor(name: string, counts: readonly number[]): NamedTensor {
  const values = new Float32Array(2 * counts.length);
  counts.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 0 || n >= LOW * LOW) throw new Error(`${name}: ${n} is not a count below 2^48`);
    values[2 * i] = Math.floor(n / LOW);
    values[2 * i + 1] = n % LOW;
  });
  return { name, shape: [counts.length, 2], values };
}

/** The counts countsTensor wrote under `name`; undefined when the checkpoint has none. */
export function countsFrom(tensors: readonly NamedTensor[], name: string): number[] | undefined {
  const t = tensors.find((x) => x.name === name);
  if (t === undefined) return undefined;
  return Array.from({ length: t.values.length / 2 }, (_, i) => t.values[2 * i]! * LOW + t.values[2 * i + 1]!);
}

/** A vector the strategy keeps, copied, as a one-dimensional tensor. */
export function vectorTensor(name: string, values: Float32Array): NamedTensor {
  return { name, shape: [values.length], values: Float32Array.from(values) };
}

/** The vector vectorTensor wrote under `name`, copied; undefined when the checkpoint has none. */
export function vectorFrom(tensors: readonly NamedTensor[], name: string): Float32Array | undefined {
  const t = tensors.find((x) => x.name === name);
  return t && Float32Array.from(t.values);
}
