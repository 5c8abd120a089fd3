// The wasm backend's Slice (and SplitV, which slices) copies its whole input out of the wasm
// heap before it copies the slice back in: the label rows of layer 0 (10 of 784 rows) cost a
// 3 MB read-back, and each split of a batch's activities another 0.8 MB, every step. These
// kernels copy a contiguous slice heap to heap instead, and leave any other slice to the
// original kernel. Measured: ~1 s of every 12 s chapter of the quick example's first group.
import * as tf from '@tensorflow/tfjs-core';

export interface WasmTensorHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface SliceArgs {
  inputs: { x: tf.TensorInfo };
  attrs: { begin: number | number[]; size: number | number[] };
  backend: WasmTensorHeap;
}

type SliceKernel = (args: SliceArgs) => tf.TensorInfo;

function contiguousSlice(original: SliceKernel): SliceKernel {
  return (args) => {
    const { x } = args.inputs;
    const [begin, size] = tf.slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size);
    if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin, size)) return original(args);
    // Allocate first: growing the heap replaces the buffer that views of it were made on.
    const out = args.backend.makeOutput(size, x.dtype);
    const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    args.backend.typedArrayFromHeap(out).set(args.backend.typedArrayFromHeap(x).subarray(offset, offset + tf.util.sizeFromShape(size)));
    return out;
  };
}

function splitBySlices(slice: SliceKernel) {
  return (args: {
    inputs: { x: tf.TensorInfo };
    attrs: { numOrSizeSplits: number | number[]; axis: number };
    backend: WasmTensorHeap;
  }): tf.TensorInfo[] => {
    const { x } = args.inputs;
    const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0]!;
    const begin = new Array<number>(x.shape.length).fill(0);
    return tf.backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits, axis).map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = slice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
      begin[axis]! += s;
      return part;
    });
  };
}

let registered = false;

/** Replaces wasm's Slice and SplitV kernels, once, after the wasm backend registered. */
export function registerWasmSlice(): void {
  const original = tf.getKernel(tf.Slice, 'wasm');
  if (original === undefined || registered) return;
  registered = true;
  const slice = contiguousSlice(original.kernelFunc as unknown as SliceKernel);
  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.unregisterKernel(tf.SplitV, 'wasm');
  tf.registerKernel({ kernelName: tf.Slice, backendName: 'wasm', kernelFunc: slice as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: tf.SplitV, backendName: 'wasm', kernelFunc: splitBySlices(slice) as unknown as tf.KernelFunc });
}
