// Sender side of the wire format: one header frame, then each tensor's bytes in order.
import { Dtype, type BundleHeader, type PublishLayersRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { elementCount, FLOAT32_BYTES, PROTOCOL_VERSION, sha256, tensorBytes, type WeightBundle } from './weight-bundle.js';

/** headerFrame describes every tensor, with its checksum, ahead of the data. */
export function headerFrame(bundle: WeightBundle): PublishLayersRequest {
  const header: BundleHeader = {
    protocolVersion: PROTOCOL_VERSION,
    job: bundle.job,
    fromGroup: bundle.fromGroup,
    chapter: bundle.chapter,
    tensors: bundle.tensors.map((tensor) => {
      if (elementCount(tensor.shape) !== tensor.values.length) {
        throw new Error(`tensor "${tensor.name}" has shape [${tensor.shape.join(', ')}] but ${tensor.values.length} values`);
      }
      return {
        name: tensor.name,
        shape: tensor.shape,
        dtype: Dtype.DTYPE_FLOAT32,
        byteLength: tensor.values.byteLength,
        sha256: sha256(tensorBytes(tensor.values)),
      };
    }),
  };
  return { header, chunk: undefined };
}

/**
 * bundleFrames checks the arguments and hashes the tensors once, then returns a factory
 * that replays every frame of the stream for each attempt of a publish.
 */
export function bundleFrames(bundle: WeightBundle, chunkBytes: number): () => Generator<PublishLayersRequest> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < FLOAT32_BYTES) {
    throw new Error(`chunkBytes must be an integer ≥ ${FLOAT32_BYTES}, got ${chunkBytes}`);
  }
  const header = headerFrame(bundle);
  return function* () {
    yield header;
    yield* dataFrames(bundle, chunkBytes);
  };
}

/** dataFrames yields views, not copies, so a 16 MB layer is never duplicated up front. */
function* dataFrames(bundle: WeightBundle, chunkBytes: number): Generator<PublishLayersRequest> {
  for (const [tensorIndex, tensor] of bundle.tensors.entries()) {
    const bytes = tensorBytes(tensor.values);
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      const data = bytes.subarray(offset, Math.min(offset + chunkBytes, bytes.byteLength));
      yield { header: undefined, chunk: { tensorIndex, offset, data } };
    }
  }
}
