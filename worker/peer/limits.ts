// Sizes both ends agree on, and the gRPC channel options derived from them.
import type { ChannelOptions } from '@grpc/grpc-js';

const MiB = 1024 * 1024;

/** TransferLimits bound what a receiver buffers for one stream, so a bad sender cannot exhaust memory. */
export interface TransferLimits {
  maxFrameBytes: number;
  maxTensorBytes: number;
  maxBundleBytes: number;
  maxTensors: number;
}

export const DEFAULT_LIMITS: TransferLimits = {
  // Frames of 1-4 MiB keep per-message overhead negligible while no single message is
  // large enough to stall the HTTP/2 connection (DESIGN §3).
  maxFrameBytes: 4 * MiB,
  // A 10000×10000 float32 layer is 400 MB; anything larger is a mistake, not a model.
  maxTensorBytes: 512 * MiB,
  maxBundleBytes: 1024 * MiB,
  // A group owns a handful of layers, each a weight matrix and a bias (plus optimiser
  // state at most): hundreds of tensors means a confused sender.
  maxTensors: 256,
};

export const DEFAULT_CHUNK_BYTES = 1 * MiB;

// Field tags and length prefixes of a data frame take a few bytes; headroom also covers a
// header frame that lists many tensors.
const FRAME_OVERHEAD_BYTES = 64 * 1024;

// gRPC's default 64 KiB HTTP/2 window makes a 16 MB layer crawl across in tiny bursts;
// 16 MiB lets whole frames be in flight (measured: DESIGN §3). grpc-js 1.14 honours the
// option on channels only; server-window.ts gives the peer server the same windows.
export const FLOW_CONTROL_WINDOW_BYTES = 16 * MiB;

/** channelOptions raises gRPC's 4 MiB message default just enough for one frame. */
export function channelOptions(maxFrameBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxFrameBytes + FRAME_OVERHEAD_BYTES,
    'grpc.max_send_message_length': maxFrameBytes + FRAME_OVERHEAD_BYTES,
    'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES,
  };
}
