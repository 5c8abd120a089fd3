// A TCP proxy that makes a loopback link look like one between two machines: every byte
// arrives `delayMs` late (half the round trip, each way) and no faster than `bitsPerSecond`.
// bench/data-parallel.ts puts DASO's inter-node links, and only those, through it.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Throttle {
  /** One-way delay, ms: RTT / 2. */
  delayMs: number;
  bitsPerSecond: number;
}

/**
 * Forwards `from`'s bytes to `to` in order: each chunk leaves once the link has finished
 * sending the ones before it at the throttled rate, plus the one-way delay.
 */
function pipeThrottled(from: Socket, to: Socket, t: Throttle): void {
  let linkFreeAt = 0;
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    linkFreeAt = Math.max(linkFreeAt, now) + (chunk.length * 8 * 1000) / t.bitsPerSecond;
    // Back-pressure: the sender's TCP window closes while the link is busy, as on a real one.
    if (linkFreeAt - now > 50) {
      from.pause();
      setTimeout(() => from.resume(), linkFreeAt - now - 50);
    }
    setTimeout(() => to.write(chunk), linkFreeAt - now + t.delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(linkFreeAt - performance.now(), 0) + t.delayMs));
  from.on('error', () => to.destroy());
}

/** Listens on a free loopback port and forwards every connection to `target` (host:port), throttled both ways. */
export async function startThrottleProxy(target: string, t: Throttle): Promise<{ address: string; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeThrottled(client, upstream, t);
    pipeThrottled(upstream, client, t);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
