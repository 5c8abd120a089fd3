// The peer thread's body: the ordinary peer server, with its callbacks turned into messages.
import { parentPort, workerData } from 'node:worker_threads';
import { createActivationSender, type ActivationSender } from './activation-sender.js';
import { batchValues } from './activation-batch.js';
import { startPeerServer, type PeerServer } from './peer-server.js';
import { SlotReader, SlotWriter } from './shared-slots.js';
import type { PeerThreadOptions, ThreadCommand, ThreadMessage } from './peer-thread.js';
import type { CollectiveCommand } from './thread-collectives.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { PeerStatus } from './worker-status.js';

const port = parentPort!;
const send = (message: ThreadMessage): void => port.postMessage(message);
let status: Omit<PeerStatus, 'latestChapterReceived'> = { group: 0, phase: 'starting', chapter: -1 };

const options = workerData as PeerThreadOptions;

// The training loop reads a slot until it takes the next batch, and takes at most
// `capacity` ahead of the one it reads: two slots more than that are never in use.
const incoming = options.activations && new SlotWriter(options.activations.capacity + 2, batchValues(options.activations.layout));
let decoded: ReturnType<SlotWriter['take']> | undefined;
const outgoing = new SlotReader();

function startSender(): ActivationSender | undefined {
  const downstream = options.downstreamActivations;
  if (downstream === undefined) return undefined;
  return createActivationSender({
    ...downstream,
    job: options.job,
    fromGroup: options.group,
    token: options.token,
    onTaken: (count) => send({ type: 'sent-taken', count }),
    onChapterDone: (report) => send({ type: 'sent-chapter', report }),
  });
}

function runCollective(server: PeerServer, { id, kind, ring, root, round, values }: CollectiveCommand): void {
  server.rings.start({ kind, ring, root, round }, values).then(
    (result) => port.postMessage({ type: 'collective-done', id, ...result } satisfies ThreadMessage, [result.values.buffer as ArrayBuffer]),
    (error: Error) => send({ type: 'collective-failed', id, message: error.message }),
  );
}

// JoinGroup calls waiting for the training loop's answer, by id.
const joins = new Map<number, { resolve(r: JoinGroupResponse): void; reject(e: Error): void }>();
let nextJoin = 0;
const askMain = (request: JoinGroupRequest): Promise<JoinGroupResponse> =>
  new Promise((resolve, reject) => {
    const id = nextJoin++;
    joins.set(id, { resolve, reject });
    send({ type: 'join', id, request });
  });

function settleJoin({ id, response, error }: Extract<ThreadCommand, { type: 'join-answer' }>): void {
  const waiting = joins.get(id);
  joins.delete(id);
  if (response) waiting?.resolve(response);
  else waiting?.reject(new Error(error));
}

try {
  const server = await startPeerServer({
    ...options,
    // Bundles are kept by the main thread's inbox; this one only answers GetStatus.
    inboxCapacity: 1,
    status: () => status,
    onJoin: askMain,
    onTransfer: (event) => send({ type: 'transfer', event }),
    onBundle: (bundle) => send({ type: 'bundle', bundle }),
    onActivation: {
      ...(incoming && {
        decodeTarget: () => {
          decoded = incoming.take();
          return decoded.values;
        },
      }),
      onBatch: ({ chapter, step }) => {
        const { slot, created } = decoded!;
        send({ type: 'activation', chapter, step, slot, ...(created ? { created } : {}) });
      },
      onBroken: (chapter, reason) => send({ type: 'activation-broken', chapter, reason }),
    },
  });
  const sender = startSender();
  port.on('message', (command: ThreadCommand) => {
    if (command.type === 'status') status = command.status;
    else if (command.type === 'activation-release') server.releaseActivations(command.count);
    else if (command.type === 'send-begin') sender?.begin(command.chapter, command.firstStep);
    else if (command.type === 'send-batch') sender?.push(command.step, outgoing.read(command.slot, command.created));
    else if (command.type === 'send-end') sender?.end();
    else if (command.type === 'collective') runCollective(server, command);
    else if (command.type === 'join-answer') settleJoin(command);
    else {
      sender?.close();
      void server.close(command.graceMs).then(() => send({ type: 'closed' }));
    }
  });
  send({ type: 'ready', port: server.port });
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
}
