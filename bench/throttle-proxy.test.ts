import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../observe/ports.js';
import { startThrottleProxy } from './throttle-proxy.js';

void test('the throttle proxy delivers every byte in order, no sooner than its rate and delay allow, and counts them', async () => {
  const total = 2_000_000;
  const throttle = { delayMs: 10, bitsPerSecond: 200e6 };
  const chunks: Buffer[] = [];
  let done: (ms: number) => void = () => undefined;
  const arrived = new Promise<number>((resolve) => (done = resolve));
  let started = 0;
  const server = createServer((s: Socket) =>
    s.on('data', (b: Buffer) => {
      chunks.push(b);
      if (chunks.reduce((n, c) => n + c.length, 0) === total) done(performance.now() - started);
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const [port] = await freePorts(1);
  const proxy = await startThrottleProxy(port!, `127.0.0.1:${(server.address() as AddressInfo).port}`, throttle);
  const sent = Buffer.from(Array.from({ length: total }, (_, i) => (i * 7) & 255));
  const client = connect(port!, '127.0.0.1');
  started = performance.now();
  // Many small writes: each reaches the proxy as a chunk of its own, with a deadline of its own.
  for (let at = 0; at < total; at += 4096) client.write(sent.subarray(at, at + 4096));
  const ms = await arrived;
  client.destroy();
  await proxy.close();
  server.close();
  assert.ok(Buffer.concat(chunks).equals(sent), 'the bytes arrived changed or out of order');
  assert.equal(proxy.bytes(), total);
  assert.ok(ms >= (total * 8 * 1000) / throttle.bitsPerSecond + throttle.delayMs - 1, `all bytes arrived after ${ms} ms`);
});
