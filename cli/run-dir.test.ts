import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepareRunDir } from './run-dir.js';

void describe('prepareRunDir', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ffjob-rundir-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  void it('creates missing levels and logs/, and accepts them existing', async () => {
    const dir = join(root, 'a', 'b', 'c');
    await prepareRunDir(dir);
    await prepareRunDir(dir);
    assert.ok(existsSync(join(dir, 'logs')));
  });

  void it('refuses a folder under /proc at once (recursive mkdir would spin there forever)', async () => {
    await assert.rejects(prepareRunDir('/proc/ffjob-no-such/run'), /--dir \/proc\/ffjob-no-such: cannot create it \(ENOENT\)/);
  });

  void it('refuses a file as the run folder, naming it', async () => {
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await assert.rejects(prepareRunDir(file), new RegExp(`--dir ${file}/logs: cannot create it \\(ENOTDIR\\)`));
  });
});
