import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkCompatible, loadLatestCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.js';

function make(chapter: number): Checkpoint {
  return {
    meta: { chapter, layers: [4, 3], schedule: 'pipeline' },
    tensors: [
      { name: 'layer0.weight', shape: [4, 3], values: Float32Array.from({ length: 12 }, (_, i) => chapter + i / 8) },
      { name: 'layer0.bias', shape: [3], values: Float32Array.from([chapter, -1, 0.5]) },
    ],
  };
}

void describe('checkpoint store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ffjob-ckpt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  void it('round-trips meta and tensors through one file named for the chapter', async () => {
    const path = await saveCheckpoint(dir, make(3));
    assert.equal(path, join(dir, 'chapter-000003.ffckpt'));
    assert.deepEqual(readdirSync(dir), ['chapter-000003.ffckpt']);
    const { checkpoint, skipped } = await loadLatestCheckpoint(dir);
    assert.deepEqual(checkpoint, { path, ...make(3) });
    assert.deepEqual(skipped, []);
  });

  void it('finds nothing in an empty or missing directory', async () => {
    assert.deepEqual(await loadLatestCheckpoint(join(dir, 'missing')), { checkpoint: undefined, skipped: [] });
  });

  void it('falls back to the previous checkpoint when the newest was cut short, and cleans temp files', async () => {
    await saveCheckpoint(dir, make(1));
    const newest = await saveCheckpoint(dir, make(2));
    truncateSync(newest, readFileSync(newest).length - 10);
    writeFileSync(join(dir, '.chapter-000003.ffckpt.tmp-123-abcd'), 'half a checkpoint');
    const { checkpoint, skipped } = await loadLatestCheckpoint(dir);
    assert.equal(checkpoint?.meta.chapter, 1);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].path, newest);
    assert.match(skipped[0].reason, /payload is \d+ bytes but the header promises \d+/);
    assert.ok(!readdirSync(dir).some((n) => n.includes('.tmp-')), 'temp file removed');
  });

  void it('skips a checkpoint with a flipped byte', async () => {
    await saveCheckpoint(dir, make(4));
    const newest = await saveCheckpoint(dir, make(5));
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5] ^= 0x40;
    writeFileSync(newest, bytes);
    const { checkpoint, skipped } = await loadLatestCheckpoint(dir);
    assert.equal(checkpoint?.meta.chapter, 4);
    assert.match(skipped[0].reason, /checksum/);
  });

  void it('keeps only the newest two, ordered by chapter', async () => {
    for (const chapter of [1, 9, 10, 2]) await saveCheckpoint(dir, make(chapter));
    assert.deepEqual(readdirSync(dir).sort(), ['chapter-000009.ffckpt', 'chapter-000010.ffckpt']);
  });

  void it('names every mismatching field, the file and both values, and how to start over', () => {
    const loaded = { path: '/x/chapter-000003.ffckpt', meta: { chapter: 3, layers: [1000, 1000], schedule: 'pipeline' } };
    assert.doesNotThrow(() => checkCompatible(loaded, { layers: [1000, 1000], schedule: 'pipeline' }));
    assert.throws(() => checkCompatible(loaded, { schedule: 'rotating', layers: [500, 500], seed: 7 }), {
      message:
        'checkpoint /x/chapter-000003.ffckpt belongs to another run: schedule is rotating in the job but pipeline in the checkpoint; ' +
        'layers is [500,500] in the job but [1000,1000] in the checkpoint; seed is 7 in the job but absent in the checkpoint. ' +
        "To start over on purpose, run ffjob train --local with --fresh (it moves the run's checkpoints aside) or give the job another checkpoint directory",
    });
  });
});
