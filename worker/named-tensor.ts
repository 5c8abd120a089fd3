/**
 * NamedTensor is one float32 tensor in host memory, values row-major in `shape`: the form in
 * which layers travel between processes, into checkpoints and into the saved model.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}
