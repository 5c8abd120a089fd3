// What one vote or decision of signSGD carries over a ring: the packed signs in whole
// float32 words, then the statistics (running means) as float32. The ring transport moves
// float32 arrays; a broadcast only copies them, never reads them as numbers, so the sign
// bytes ride in a Float32Array view even where their bits spell a NaN
// (worker/peer/ring-collectives.test.ts checks the bits survive gRPC).
import { packedBytes } from './sign-packing.js';

/** SignMessage is one message's parts. */
export interface SignMessage {
  signs: Uint8Array;
  statistics: Float32Array;
}

/** messageLength is the float32 length of a message of `signCount` signs and `statisticCount` statistics. */
export function messageLength(signCount: number, statisticCount: number): number {
  return Math.ceil(packedBytes(signCount) / 4) + statisticCount;
}

/** toMessage lays out `signs` (packed) and `statistics` as one message. */
export function toMessage({ signs, statistics }: SignMessage): Float32Array {
  const words = Math.ceil(signs.length / 4);
  const out = new Float32Array(words + statistics.length);
  new Uint8Array(out.buffer, out.byteOffset, signs.length).set(signs);
  out.set(statistics, words);
  return out;
}

/** fromMessage reads a message of `signCount` signs back into its parts (copies). */
export function fromMessage(message: Float32Array, signCount: number): SignMessage {
  const bytes = packedBytes(signCount);
  const words = Math.ceil(bytes / 4);
  if (message.length < words) throw new Error(`a message of ${message.length} values holds fewer than ${signCount} signs`);
  return {
    signs: new Uint8Array(message.buffer, message.byteOffset, bytes).slice(),
    statistics: message.slice(words),
  };
}
