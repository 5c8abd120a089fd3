import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LossPlateau } from './daso-plateau.js';

void test('LossPlateau: a plateau is the (patience + 1)-th epoch in a row not 5% below the best, as heat decides', () => {
  const cases: { name: string; threshold?: number; patience?: number; losses: number[]; want: string }[] = [
    { name: 'every epoch 10% better: never', losses: [1, 0.9, 0.81, 0.73], want: 'FFFF' },
    { name: '1% better is not better: the third such epoch', losses: [1, 0.99, 0.98, 0.97], want: 'FFFT' },
    { name: 'the count starts again after a plateau, the best kept', losses: [1, 1, 1, 1, 1, 1, 1], want: 'FFFTFFT' },
    { name: 'an improvement resets the count', losses: [1, 1, 1, 0.5, 0.5, 0.5, 0.5], want: 'FFFFFFT' },
    { name: 'just above the relative bar', patience: 0, losses: [100, 95.1], want: 'FT' },
    { name: 'just below the relative bar', patience: 0, losses: [100, 94.9], want: 'FF' },
    { name: 'a negative best must fall 5% further', patience: 0, losses: [-1, -1.04, -1.06], want: 'FTF' },
    { name: 'a NaN loss never improves', patience: 1, losses: [1, Number.NaN, Number.NaN], want: 'FFT' },
  ];
  for (const c of cases) {
    const plateau = new LossPlateau(c.threshold ?? 0.05, c.patience ?? 2);
    const got = c.losses.map((loss) => (plateau.observe(loss) ? 'T' : 'F')).join('');
    assert.equal(got, c.want, c.name);
  }
});
