import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { createLogger, type LoggerOptions } from './log.js';

function capture(isTTY: boolean): { stream: NonNullable<LoggerOptions['stream']>; lines: string[] } {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (chunk: string) => lines.push(chunk) } };
}

const at = new Date(2024, 0, 2, 12, 1, 2);
const now = (): Date => at;

void describe('createLogger', () => {
  const saved = { format: process.env.FFJOB_LOG_FORMAT, level: process.env.FFJOB_LOG_LEVEL };
  beforeEach(() => {
    delete process.env.FFJOB_LOG_FORMAT;
    delete process.env.FFJOB_LOG_LEVEL;
  });
  after(() => {
    if (saved.format !== undefined) process.env.FFJOB_LOG_FORMAT = saved.format;
    if (saved.level !== undefined) process.env.FFJOB_LOG_LEVEL = saved.level;
  });

  void it('writes JSON lines with ts, level, msg, fixed fields and extras when not on a TTY', () => {
    const out = capture(false);
    createLogger({ job: 'mnist', group: 1 }, { stream: out.stream, now }).warn('slow chapter', { seconds: 2.5 });
    assert.equal(out.lines.length, 1);
    assert.ok(out.lines[0].endsWith('\n'));
    const record = JSON.parse(out.lines[0]);
    assert.deepEqual(Object.keys(record), ['ts', 'level', 'msg', 'job', 'group', 'seconds']);
    assert.deepEqual(record, { ts: at.toISOString(), level: 'warn', msg: 'slow chapter', job: 'mnist', group: 1, seconds: 2.5 });
  });

  void it('writes readable text on a TTY', () => {
    const out = capture(true);
    createLogger({ job: 'mnist' }, { stream: out.stream, now }).info('chapter done', { loss: 0.25, note: 'two words' });
    assert.deepEqual(out.lines, ['12:01:02 INFO  chapter done job=mnist loss=0.25 note="two words"\n']);
  });

  void it('writes JSON on a TTY when FFJOB_LOG_FORMAT=json', () => {
    process.env.FFJOB_LOG_FORMAT = 'json';
    const out = capture(true);
    createLogger({}, { stream: out.stream, now }).error('boom', { err: new Error('disk full') });
    assert.deepEqual(JSON.parse(out.lines[0]), { ts: at.toISOString(), level: 'error', msg: 'boom', err: 'disk full' });
  });

  void it('drops debug records below the configured level and keeps them when asked', () => {
    const quiet = capture(false);
    createLogger({}, { stream: quiet.stream, level: 'info' }).debug('hidden');
    assert.equal(quiet.lines.length, 0);
    const loud = capture(false);
    createLogger({}, { stream: loud.stream, level: 'debug' }).debug('shown');
    assert.equal(JSON.parse(loud.lines[0]).level, 'debug');
  });

  void it('lets a child add fields without changing its parent', () => {
    const out = capture(false);
    const parent = createLogger({ job: 'j' }, { stream: out.stream, format: 'json' });
    parent.child({ layer: 2 }).info('a');
    parent.info('b');
    assert.deepEqual(
      out.lines.map((l) => JSON.parse(l).layer),
      [2, undefined],
    );
    assert.deepEqual(
      out.lines.map((l) => JSON.parse(l).job),
      ['j', 'j'],
    );
  });
});
