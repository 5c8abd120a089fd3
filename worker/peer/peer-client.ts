// The sending end of the weight exchange: streams a bundle to the downstream worker and
// retries only failures that a later attempt can fix.
import { credentials, status, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import {
  LayerExchangeServiceClient,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type PublishLayersRequest,
  type PublishLayersResponse,
} from '../../proto/gen/ff/v1/layer_exchange.js';
import { tokenMetadata } from './auth.js';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { bundleFrames } from './frames.js';
import { channelOptions, DEFAULT_CHUNK_BYTES, DEFAULT_LIMITS } from './limits.js';
import { notifyTransfer, type TransferObserver } from './transfer-observer.js';
import type { WeightBundle } from './weight-bundle.js';
import { fromStatusResponse, type PeerStatus } from './worker-status.js';

export interface PublishOptions {
  token?: string;
  /** chunkBytes is the data per frame (default 1 MiB); the receiver refuses frames over its limit. */
  chunkBytes?: number;
  /** attemptTimeoutMs is the deadline of one attempt (default 120 s). */
  attemptTimeoutMs?: number;
  /** maxAttempts bounds the attempts, the first included (default 8). */
  maxAttempts?: number;
  /** retryBudgetMs stops retrying once this much time has passed since the first attempt (default 300 s). */
  retryBudgetMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** sleep and random are injectable so tests control time and jitter. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (event: { attempt: number; delayMs: number; error: PublishError }) => void;
  onTransfer?: TransferObserver;
}

export interface PublishResult {
  attempts: number;
  bytes: number;
  /** seconds is the duration of the successful attempt alone. */
  seconds: number;
}

export class PublishError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

// The downstream worker not being up yet (UNAVAILABLE) or being slow (DEADLINE_EXCEEDED)
// are transient; every other status is a refusal that would repeat identically.
const RETRYABLE: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

export async function publishBundle(target: string, bundle: WeightBundle, options: PublishOptions = {}): Promise<PublishResult> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const frames = bundleFrames(bundle, chunkBytes);
  const retry = retrySettings(options);
  const firstStart = Date.now();
  const what = `publish of chapter ${bundle.chapter} to ${target}`;

  for (let attempt = 1; ; attempt += 1) {
    const attemptStart = performance.now();
    try {
      const response = await publishOnce(target, frames(), chunkBytes, options);
      const seconds = (performance.now() - attemptStart) / 1000;
      notifyTransfer(options.onTransfer, { direction: 'sent', bytes: response.bytesReceived, seconds, chapter: bundle.chapter });
      return { attempts: attempt, bytes: response.bytesReceived, seconds };
    } catch (caught) {
      const { code, details } = describe(caught);
      if (!RETRYABLE.has(code)) throw new PublishError(code, `${what} refused: ${status[code]}: ${details}`, attempt);
      const delayMs = backoffDelayMs(attempt, retry.policy, retry.random());
      const error = new PublishError(code, `${what} failed after ${attempt} attempt(s): ${status[code]}: ${details}`, attempt);
      if (attempt >= retry.maxAttempts || Date.now() + delayMs - firstStart > retry.budgetMs) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await retry.sleep(delayMs);
    }
  }
}

function retrySettings(options: PublishOptions): {
  maxAttempts: number;
  budgetMs: number;
  policy: BackoffPolicy;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
} {
  return {
    maxAttempts: options.maxAttempts ?? 8,
    budgetMs: options.retryBudgetMs ?? 300_000,
    policy: { ...DEFAULT_BACKOFF, ...options.backoff },
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((wake) => setTimeout(wake, ms))),
    random: options.random ?? Math.random,
  };
}

/** fetchPeerStatus calls GetStatus; it is what tools use to see where a worker is. */
export function fetchPeerStatus(target: string, options: { token?: string; timeoutMs?: number } = {}): Promise<PeerStatus> {
  const client = new LayerExchangeServiceClient(target, credentials.createInsecure());
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  return new Promise<PeerStatus>((resolve, reject) => {
    client.getStatus({}, tokenMetadata(options.token), { deadline }, (error, response) => {
      client.close();
      if (error) {
        reject(new Error(`GetStatus on ${target}: ${status[error.code]}: ${error.details}`, { cause: error }));
        return;
      }
      const snapshot = fromStatusResponse(response);
      if (!snapshot) {
        reject(new Error(`GetStatus on ${target}: unknown phase ${response.phase} (a newer worker?)`));
        return;
      }
      resolve(snapshot);
    });
  });
}

async function publishOnce(
  target: string,
  frames: Iterable<PublishLayersRequest>,
  chunkBytes: number,
  options: PublishOptions,
): Promise<PublishLayersResponse> {
  const channel: ChannelOptions = {
    ...channelOptions(Math.max(chunkBytes, DEFAULT_LIMITS.maxFrameBytes)),
    // A fresh connection per attempt: a shared subchannel would still be inside gRPC's own
    // reconnect back-off (1 s and growing) when ours says to try again.
    'grpc.use_local_subchannel_pool': 1,
  };
  const client = new LayerExchangeServiceClient(target, credentials.createInsecure(), channel);
  try {
    return await streamFrames(client, frames, options);
  } finally {
    client.close();
  }
}

function streamFrames(
  client: LayerExchangeServiceClient,
  frames: Iterable<PublishLayersRequest>,
  options: PublishOptions,
): Promise<PublishLayersResponse> {
  const deadline = Date.now() + (options.attemptTimeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    let answered = false;
    let wakeWriter = (): void => {};
    const call = client.publishLayers(tokenMetadata(options.token), { deadline }, (error, response) => {
      answered = true;
      wakeWriter();
      if (error) reject(error);
      else resolve(response);
    });
    // Honour back-pressure so at most a window of frames is buffered, and stop writing as
    // soon as the receiver has answered (a refusal can come mid-stream).
    const write = async (): Promise<void> => {
      for (const frame of frames) {
        if (answered) return;
        if (!call.write(frame)) {
          await new Promise<void>((wake) => {
            wakeWriter = wake;
            call.once('drain', wake);
          });
        }
      }
      if (!answered) call.end();
    };
    write().catch((error: unknown) => {
      call.cancel();
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}

function describe(caught: unknown): { code: status; details: string } {
  const error = caught as Partial<ServiceError>;
  if (typeof error.code === 'number') return { code: error.code, details: error.details ?? error.message ?? '' };
  return { code: status.UNKNOWN, details: caught instanceof Error ? caught.message : String(caught) };
}

/** joinGroup calls JoinGroup on a replica of the same group (worker/sync/rejoin.ts). */
export function joinGroup(
  target: string,
  request: JoinGroupRequest,
  options: { token?: string; timeoutMs: number },
): Promise<JoinGroupResponse> {
  const client = new LayerExchangeServiceClient(target, credentials.createInsecure());
  const deadline = Date.now() + options.timeoutMs;
  return new Promise((resolve, reject) => {
    client.joinGroup(request, tokenMetadata(options.token), { deadline }, (error, response) => {
      client.close();
      if (error) reject(new Error(`JoinGroup on ${target}: ${status[error.code]}: ${error.details}`, { cause: error }));
      else resolve(response);
    });
  });
}
