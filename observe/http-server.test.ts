import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startObservabilityServer, type ObservabilityServer } from './http-server.js';
import { WorkerMetrics } from './metrics.js';

void describe('startObservabilityServer', () => {
  let ready = false;
  let server: ObservabilityServer;
  let base: string;
  const metrics = new WorkerMetrics({ job: 'mnist', group: 0 });

  before(async () => {
    server = await startObservabilityServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      status: () => ({ chapter: 4, phase: 'Running' }),
      ready: () => ready,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  void it('picks a free port when asked for port 0', () => {
    assert.ok(server.port > 0);
  });

  void it('serves Prometheus text on /metrics', async () => {
    metrics.setChapter(4);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^ffjob_worker_chapter\{job_name="mnist",group="0",replica="0"\} 4$/m);
  });

  void it('answers /healthz with 200 while alive', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  void it('answers /readyz with 503 until ready, then 200', async () => {
    ready = false;
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  void it('serves status() as JSON on /status', async () => {
    const res = await fetch(`${base}/status`);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { chapter: 4, phase: 'Running' });
  });

  void it('answers 404 for unknown paths and 405 for other methods', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  void it('names the port when it is already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startObservabilityServer({ host: '127.0.0.1', port, metrics, status: () => ({}), ready: () => true }), {
        message: `cannot start the observability server on 127.0.0.1:${port}: port ${port} is already in use`,
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
