import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundGraph } from './consensus-graph.js';
import { metropolisWeights } from './metropolis.js';
import { disagreement, mix, RmsMetric, StepSizes, stepTowards, surrogateMinimiser, trackGradient } from './next-round.js';

const close = (a: number, b: number, tolerance = 1e-6): boolean => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

void describe('one NEXT round', () => {
  void it('step sizes follow α[n] = α[n−1]·(1 − ε·α[n−1]) from α[0], in any order asked', () => {
    const sizes = new StepSizes(0.5, 0.1);
    let alpha = 0.5;
    const want = [alpha];
    for (let n = 1; n < 50; n++) want.push((alpha *= 1 - 0.1 * alpha));
    assert.equal(sizes.at(0), 0.5);
    assert.ok(close(sizes.at(1), 0.475));
    assert.ok(close(sizes.at(49), want[49]!));
    assert.ok(close(sizes.at(7), want[7]!), 'an earlier round after a later one');
    for (let n = 1; n < 50; n++) assert.ok(want[n]! < want[n - 1]!, 'falls every round');
    assert.ok(close(want[49]!, 1 / (0.1 * 49 + 1 / 0.5), 0.05), `like 1/(ε·n + 1/α[0]): ${want[49]}`);
    assert.equal(new StepSizes(0.3, 0).at(100), 0.3, 'ε = 0 keeps α');
  });

  void it('the surrogate’s minimiser zeroes its gradient ∇ + τ·s·(x̃ − x[n]) and leaves the statistics after the gradients', () => {
    const x = Float32Array.of(1, -2, 3, 0.7);
    const g = Float32Array.of(0.5, -1, 2);
    const s = Float32Array.of(1, 4, 0.5);
    for (const metric of [undefined, s]) {
      const xt = surrogateMinimiser(x, g, 4, metric);
      g.forEach((gk, k) => assert.ok(close(gk + 4 * (metric?.[k] ?? 1) * (xt[k]! - x[k]!), 0), `coordinate ${k}`));
      assert.equal(xt[3], x[3], 'the running mean stays');
      // Strongly convex: any other point scores higher.
      const score = (p: Float32Array): number =>
        g.reduce((sum, gk, k) => sum + gk * (p[k]! - x[k]!) + 2 * (metric?.[k] ?? 1) * (p[k]! - x[k]!) ** 2, 0);
      for (let k = 0; k < 3; k++) {
        const moved = Float32Array.from(xt);
        moved[k] = moved[k]! + 0.01;
        assert.ok(score(moved) > score(xt));
      }
    }
    assert.deepEqual([...surrogateMinimiser(x, g, 2)], [0.75, -1.5, 2, 0.699999988079071], 'x − ∇/τ');
  });

  void it('the rms metric is √v̂ + ε of the squared gradients’ running mean, bias-corrected', () => {
    const metric = new RmsMetric(0.9, 1e-3);
    const first = metric.next(Float32Array.of(2, -0.5));
    assert.ok(close(first[0]!, 2.001) && close(first[1]!, 0.501), `the first round is |g| + ε: ${first}`);
    let s = first;
    for (let n = 0; n < 200; n++) s = metric.next(Float32Array.of(n % 2 === 0 ? 3 : -3, 1));
    assert.ok(close(s[0]!, 3.001, 1e-3) && close(s[1]!, 1.001, 1e-3), `settles at the rms: ${s}`);
  });

  void it('a step goes the fraction α of the way to the minimiser', () => {
    const x = Float32Array.of(1, 2);
    const xt = Float32Array.of(3, -2);
    assert.deepEqual([...stepTowards(x, xt, 0)], [1, 2]);
    assert.deepEqual([...stepTowards(x, xt, 1)], [3, -2]);
    assert.deepEqual([...stepTowards(x, xt, 0.25)], [1.5, 1]);
  });

  void it('mixing is the weighted sum of the vectors', () => {
    assert.deepEqual([...mix([Float32Array.of(1, 2), Float32Array.of(3, 6)], [0.75, 0.25])], [1.5, 3]);
  });

  void it('tracking adds the change of the own gradient, so the trackers keep summing to the gradients over any rounds', () => {
    assert.deepEqual([...trackGradient(Float32Array.of(1, 1), Float32Array.of(5, 0), Float32Array.of(2, 3))], [4, -2]);
    // Four replicas over time-varying rings, each with a gradient that changes every round.
    const replicas = 4;
    const gradient = (i: number, n: number): Float32Array => Float32Array.of(Math.sin(i + n), i * n - 3, (i - 1.5) * 0.1);
    let g = Array.from({ length: replicas }, (_, i) => gradient(i, 0));
    let y: Float32Array[] = g.map((v) => Float32Array.from(v));
    for (let n = 1; n < 30; n++) {
      const links = roundGraph({ graph: 'ring', degree: 2, timeVarying: true }, replicas, 1, n);
      const mixed = links.map((ns, i) => {
        const w = metropolisWeights(
          ns.length,
          ns.map((j) => links[j]!.length),
        );
        return mix([y[i]!, ...ns.map((j) => y[j]!)], [w.self, ...w.neighbours]);
      });
      const next = g.map((_, i) => gradient(i, n));
      y = mixed.map((m, i) => trackGradient(m, next[i]!, g[i]!));
      g = next;
      for (let k = 0; k < 3; k++) {
        const sumY = y.reduce((s, v) => s + v[k]!, 0);
        const sumG = g.reduce((s, v) => s + v[k]!, 0);
        assert.ok(close(sumY, sumG, 1e-4), `round ${n}[${k}]: Σy ${sumY}, Σg ${sumG}`);
      }
    }
  });

  void it('disagreement is ‖x − mean of the neighbours‖ / ‖x‖ per layer', () => {
    const own = Float32Array.of(3, 4, 1, 0);
    const ranges = [
      { layer: '0', start: 0, end: 2 },
      { layer: 'head', start: 2, end: 4 },
    ];
    const d = disagreement(own, [Float32Array.of(3, 4, 1, 0), Float32Array.of(3, 2, 3, 0)], ranges);
    assert.ok(close(d.get('0')!, 1 / 5), `layer 0: ${d.get('0')}`);
    assert.ok(close(d.get('head')!, 1), `head: ${d.get('head')}`);
    assert.deepEqual(
      disagreement(own, [own], ranges),
      new Map([
        ['0', 0],
        ['head', 0],
      ]),
    );
    assert.equal(disagreement(own, [], ranges).size, 0);
  });
});
