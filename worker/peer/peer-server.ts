// The receiving end of the weight exchange: serves LayerExchangeService and the standard
// gRPC health service, and hands only fully validated bundles to the inbox.
import { Server, ServerCredentials, status, type handleClientStreamingCall } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import {
  LayerExchangeServiceService,
  type LayerExchangeServiceServer,
  type PublishLayersRequest,
  type PublishLayersResponse,
} from '../../proto/gen/ff/v1/layer_exchange.js';
import { batchBytes } from './activation-batch.js';
import { activationsHandler, FlowGate, type ActivationEvents, type ActivationExpectations } from './activation-receiver.js';
import { createAssembler, type ExpectedTensor, type Expectations } from './assembler.js';
import { checkToken } from './auth.js';
import { createInbox, type Inbox, type InboxWriter } from './inbox.js';
import { channelOptions, DEFAULT_CHUNK_BYTES, DEFAULT_LIMITS, FLOW_CONTROL_WINDOW_BYTES, type TransferLimits } from './limits.js';
import { advertiseStreamWindow, widenConnectionWindows } from './server-window.js';
import { Refusal, toServiceError } from './refusal.js';
import { createRingExchange, type RingExchange } from './ring-exchange.js';
import type { RingSpec } from '../sync/ring-spec.js';
import { joinHandler, type JoinAnswerer } from './join-handler.js';
import { notifyTransfer, type TransferObserver } from './transfer-observer.js';
import { toStatusResponse, type PeerStatus } from './worker-status.js';
import type { WeightBundle } from './weight-bundle.js';

export interface PeerServerOptions {
  /** host defaults to 0.0.0.0 so a pod is reachable through its Service. */
  host?: string;
  /** port 0 picks a free port; the chosen one is returned. */
  port: number;
  job: string;
  /** upstreamGroup, when set, refuses bundles from any other group and names it in timeouts. */
  upstreamGroup?: number;
  /** upstreamTensors, when set, are the names and shapes a bundle must carry (the receiver's upstream layers). */
  upstreamTensors?: ExpectedTensor[];
  /** onlyUpstreamTensors, when set, refuses a bundle carrying anything besides upstreamTensors. */
  onlyUpstreamTensors?: boolean;
  /** chapters, when set, is the job's chapter count; bundles for later chapters are refused. */
  chapters?: number;
  /** upstreamUnits, when set (ring jobs), are the layers' states of which a bundle must carry exactly one. */
  upstreamUnits?: ExpectedTensor[][];
  token?: string;
  /** status supplies GetStatus; latestChapterReceived is filled in from the inbox. */
  status: () => Omit<PeerStatus, 'latestChapterReceived'>;
  limits?: Partial<TransferLimits>;
  /** inboxCapacity is how many chapters are kept (default 4). */
  inboxCapacity?: number;
  onTransfer?: TransferObserver;
  /** onBundle sees every bundle the inbox accepts (peer-thread forwards them this way). */
  onBundle?: (bundle: WeightBundle) => void;
  /** activations, when set, accepts the upstream group's activation streams (`exchange: activations`). */
  activations?: Omit<ActivationExpectations, 'job'>;
  onActivation?: ActivationEvents;
  /** rings are the replica rings this worker is a member of; SendRingChunk refuses any other tag. */
  rings?: RingSpec[];
  /** collectiveTimeoutMs fails a ring collective that has not ended this long after it started here (default 600 s). */
  collectiveTimeoutMs?: number;
  /** ringChunkValues is the values per ring chunk (default 1 MiB of float32, less under a smaller frame limit); every member must use the same. */
  ringChunkValues?: number;
  /** Answers JoinGroup for the group's ring among `rings`: a replica that restarted asks where the group is. */
  onJoin?: JoinAnswerer;
}

export interface PeerServer {
  port: number;
  inbox: Inbox;
  /** The training loop took (or dropped) this many streamed batches: room for as many more. */
  releaseActivations(count: number): void;
  /** This worker's side of the ring collectives (allreduce, broadcast) over `rings`. */
  rings: Pick<RingExchange, 'start'>;
  /** close stops serving, waiting up to graceMs (default 5000) for streams in flight. */
  close(graceMs?: number): Promise<void>;
}

const SERVICE_NAME = 'ff.v1.LayerExchangeService';
const DEFAULT_COLLECTIVE_TIMEOUT_MS = 600_000;

export async function startPeerServer(options: PeerServerOptions): Promise<PeerServer> {
  const limits: TransferLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const inbox = createInbox({
    capacity: options.inboxCapacity ?? 4,
    sender: options.upstreamGroup === undefined ? 'any group' : `group ${options.upstreamGroup}`,
  });
  const activations = options.activations && { job: options.job, ...options.activations };
  const gate = new FlowGate(activations?.capacity ?? 0);
  const server = new Server(channelOptions(Math.max(limits.maxFrameBytes, activations ? batchBytes(activations.layout) : 0)));
  const rings = startRings(options, limits);
  const impl: LayerExchangeServiceServer = {
    publishLayers: publishHandler(options, limits, inbox),
    streamActivations: activations
      ? activationsHandler(
          activations,
          options.token,
          gate,
          options.onActivation ?? { onBatch: () => undefined, onBroken: () => undefined },
        )
      : (_call, callback) =>
          callback(
            toServiceError(
              new Refusal(status.FAILED_PRECONDITION, 'this worker takes weights, not activations (spec.parallelism.exchange)'),
            ),
          ),
    sendRingChunk: rings.handle,
    joinGroup: joinHandler(options, rings),
    getStatus(call, callback) {
      const refusal = checkToken(call.metadata, options.token);
      if (refusal) {
        callback(toServiceError(refusal));
        return;
      }
      callback(null, toStatusResponse({ ...options.status(), latestChapterReceived: inbox.latestChapter() }));
    },
  };
  server.addService(LayerExchangeServiceService, impl);
  // '' is the whole server, which is what a Kubernetes grpc probe asks about by default.
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);

  const host = options.host ?? '0.0.0.0';
  advertiseStreamWindow(server, FLOW_CONTROL_WINDOW_BYTES);
  const port = await bind(server, host, options.port);
  widenConnectionWindows(server, FLOW_CONTROL_WINDOW_BYTES);
  return {
    port,
    inbox,
    releaseActivations: (count) => gate.release(count),
    rings,
    close: async (graceMs = 5000) => {
      // Probes see NOT_SERVING while streams drain, so no new sender is routed here.
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      inbox.close(`peer server on port ${port} closed`);
      rings.close(`peer server on port ${port} closed`);
      await shutdown(server, graceMs);
    },
  };
}

function startRings(options: PeerServerOptions, limits: TransferLimits): RingExchange {
  const chunkValues =
    options.ringChunkValues ?? Math.floor(Math.min(DEFAULT_CHUNK_BYTES, limits.maxFrameBytes) / Float32Array.BYTES_PER_ELEMENT);
  if (chunkValues * Float32Array.BYTES_PER_ELEMENT > limits.maxFrameBytes) {
    throw new Error(`ringChunkValues: ${chunkValues} float32 values exceed the ${limits.maxFrameBytes}-byte frame limit`);
  }
  return createRingExchange({
    job: options.job,
    token: options.token,
    rings: options.rings ?? [],
    timeoutMs: options.collectiveTimeoutMs ?? DEFAULT_COLLECTIVE_TIMEOUT_MS,
    chunkValues,
    maxHeldBytes: limits.maxBundleBytes,
  });
}

function publishHandler(
  options: PeerServerOptions,
  limits: TransferLimits,
  inbox: InboxWriter,
): handleClientStreamingCall<PublishLayersRequest, PublishLayersResponse> {
  const expect: Expectations = {
    job: options.job,
    fromGroup: options.upstreamGroup,
    tensors: options.upstreamTensors,
    onlyTensors: options.onlyUpstreamTensors,
    chapters: options.chapters,
    units: options.upstreamUnits,
  };
  return (call, callback) => {
    const refusal = checkToken(call.metadata, options.token);
    if (refusal) {
      callback(toServiceError(refusal));
      return;
    }
    const started = performance.now();
    const assembler = createAssembler(limits, expect);
    // The stream keeps delivering frames after a refusal; they must be ignored, and the
    // call answered exactly once.
    let answered = false;
    const refuse = (error: unknown): void => {
      answered = true;
      callback(toServiceError(error));
    };
    call.on('data', (frame: PublishLayersRequest) => {
      if (answered) return;
      try {
        assembler.accept(frame);
      } catch (error) {
        refuse(error);
      }
    });
    call.on('end', () => {
      if (answered) return;
      answered = true;
      let bundle;
      try {
        bundle = assembler.finish();
      } catch (error) {
        callback(toServiceError(error));
        return;
      }
      inbox.deliver(bundle);
      options.onBundle?.(bundle);
      callback(null, { chapter: bundle.chapter, bytesReceived: assembler.bytes });
      const seconds = (performance.now() - started) / 1000;
      notifyTransfer(options.onTransfer, { direction: 'received', bytes: assembler.bytes, seconds, chapter: bundle.chapter });
    });
    // A sender that cancels or disconnects mid-stream leaves nothing to deliver.
    call.on('error', () => {
      answered = true;
    });
  };
}

function bind(server: Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (!error) {
        resolve(boundPort);
        return;
      }
      server.forceShutdown();
      const reason = error.message.includes('EADDRINUSE') ? `port ${port} is already in use` : error.message;
      reject(new Error(`peer server cannot listen on ${address}: ${reason}`, { cause: error }));
    });
  });
}

function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
