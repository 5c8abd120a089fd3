// Free loopback ports for the local runner's workers (and the tests and benches that start
// peers which must know each other's addresses up front). The kernel picks an unused port when
// asked for port 0; the sockets are closed again before the workers bind them, which leaves
// a small window in which another process could take one: acceptable on a developer machine.
import { createServer, type Server } from 'node:net';

function listenOnAnyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address === 'object' && address !== null) resolve({ server, port: address.port });
      else reject(new Error('could not obtain a free loopback port'));
    });
  });
}

/** freePorts returns `count` distinct free ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  // Every socket stays open until all are bound, so the kernel cannot hand out a port twice.
  const held = await Promise.all(Array.from({ length: count }, () => listenOnAnyPort()));
  await Promise.all(held.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  return held.map(({ port }) => port);
}
