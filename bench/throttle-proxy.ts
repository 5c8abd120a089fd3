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
function pipeThrottled(from: Socket, to: Socket, t: Throttle, count: (bytes: number) => void): void {
  let linkFreeAt = 0;
  // One queue and one timer per direction: a timer per chunk can fire out of order, since
  // Node starts timers from the event loop's cached clock, and a reordered byte stream is
  // a broken HTTP/2 connection. `chunk` null is the end of the stream.
  const queue: { at: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deliver = (): void => {
    timer = undefined;
    const now = performance.now();
    for (let next = queue[0]; next !== undefined && next.at <= now; next = queue[0]) {
      queue.shift();
      if (next.chunk === null) to.end();
      else to.write(next.chunk);
    }
    if (queue.length > 0) timer = setTimeout(deliver, queue[0]!.at - now);
  };
  const arrive = (at: number, chunk: Buffer | null): void => {
    queue.push({ at, chunk });
    timer ??= setTimeout(deliver, at - performance.now());
  };
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    const now = performance.now();
    linkFreeAt = Math.max(linkFreeAt, now) + (chunk.length * 8 * 1000) / t.bitsPerSecond;
    // Back-pressure: the sender's TCP window closes while the link is busy, as on a real one.
    if (linkFreeAt - now > 50) {
      from.pause();
      setTimeout(() => from.resume(), linkFreeAt - now - 50);
    }
    arrive(linkFreeAt + t.delayMs, chunk);
  });
  from.on('end', () => arrive(Math.max(linkFreeAt, performance.now()) + t.delayMs, null));
  from.on('error', () => to.destroy());
}

export interface ThrottleProxy {
  address: string;
  /** Bytes it has forwarded so far, both ways: what crossed the slow link. */
  bytes(): number;
  close(): Promise<void>;
}

/** Listens on loopback `port` and forwards every connection to `target` (host:port), throttled both ways. */
export async function startThrottleProxy(port: number, target: string, t: Throttle): Promise<ThrottleProxy> {
  const [host, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let forwarded = 0;
  const count = (bytes: number): void => void (forwarded += bytes);
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, host);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeThrottled(client, upstream, t, count);
    pipeThrottled(upstream, client, t, count);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => forwarded,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
