import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseNegatives, type NegativeStrategy } from './negatives.js';

const classes = 4;
const labels = Uint8Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
const rows = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
// Row r prefers label (r + 2) % 4 strongly among the wrong ones.
const scores = Float32Array.from({ length: labels.length * classes }, (_, i) =>
  Math.floor(i / classes) % classes === (i % classes) - 2 || (Math.floor(i / classes) + 2) % classes === i % classes ? 10 : 0,
);

const ctx = (strategy: NegativeStrategy, chapter: number, withScores = true): Parameters<typeof chooseNegatives>[2] => ({
  strategy,
  classes,
  seed: 3,
  chapter,
  ...(withScores ? { scores } : {}),
});

void test('every strategy returns a wrong label for every row', () => {
  for (const strategy of ['fixed', 'random', 'adaptive', 'sampled'] as const) {
    const negatives = chooseNegatives(labels, rows, ctx(strategy, 1));
    negatives.forEach((n, i) => assert.notEqual(n, labels[rows[i]!], `${strategy} row ${i}`));
  }
});

void test('adaptive takes the wrong label the model scores highest', () => {
  const negatives = chooseNegatives(labels, rows, ctx('adaptive', 1));
  assert.deepEqual(
    Array.from(negatives),
    Array.from(rows, (r) => (r + 2) % classes),
  );
});

void test('sampled follows the softmax over wrong labels: a 10-logit lead wins nearly always', () => {
  const many = Int32Array.from({ length: 400 }, (_, i) => i % labels.length);
  const negatives = chooseNegatives(labels, many, ctx('sampled', 1));
  const hits = Array.from(negatives).filter((n, i) => n === (many[i]! + 2) % classes).length;
  assert.ok(hits > 390, `only ${hits} of 400 drew the favoured label`);
});

void test('random labels change between chapters while fixed ones do not', () => {
  const many = Int32Array.from({ length: 200 }, (_, i) => i % labels.length);
  const differ = (a: Uint8Array, b: Uint8Array): number => a.filter((v, i) => v !== b[i]).length;
  assert.ok(differ(chooseNegatives(labels, many, ctx('random', 1)), chooseNegatives(labels, many, ctx('random', 2))) > 50);
  assert.equal(differ(chooseNegatives(labels, rows, ctx('fixed', 1)), chooseNegatives(labels, rows, ctx('fixed', 7))), 0);
});

void test('without scores the model-driven strategies fall back to random wrong labels', () => {
  const negatives = chooseNegatives(labels, rows, ctx('adaptive', 0, false));
  negatives.forEach((n, i) => assert.notEqual(n, labels[rows[i]!]));
});
