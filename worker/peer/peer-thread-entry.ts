// The peer thread's body: the ordinary peer server, with its callbacks turned into messages.
import { parentPort, workerData } from 'node:worker_threads';
import { startPeerServer } from './peer-server.js';
import type { PeerThreadOptions, ThreadCommand, ThreadMessage } from './peer-thread.js';
import type { PeerStatus } from './worker-status.js';

const port = parentPort!;
const send = (message: ThreadMessage): void => port.postMessage(message);
let status: Omit<PeerStatus, 'latestChapterReceived'> = { group: 0, phase: 'starting', chapter: -1 };

try {
  const server = await startPeerServer({
    ...(workerData as PeerThreadOptions),
    // Bundles are kept by the main thread's inbox; this one only answers GetStatus.
    inboxCapacity: 1,
    status: () => status,
    onTransfer: (event) => send({ type: 'transfer', event }),
    onBundle: (bundle) => send({ type: 'bundle', bundle }),
  });
  port.on('message', (command: ThreadCommand) => {
    if (command.type === 'status') status = command.status;
    else void server.close(command.graceMs).then(() => send({ type: 'closed' }));
  });
  send({ type: 'ready', port: server.port });
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
}
