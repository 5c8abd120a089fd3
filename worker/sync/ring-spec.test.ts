import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ringProblem, sameRing, type RingSpec } from './ring-spec.js';

const ring: RingSpec = { tag: 'group-0', rank: 1, members: ['a:1', 'b:1', 'c:1'] };

void describe('ring specs', () => {
  const table: { name: string; ring: RingSpec; want: RegExp | undefined }[] = [
    { name: 'a well-formed ring is accepted', ring, want: undefined },
    { name: 'a ring of one is accepted', ring: { tag: 'solo', rank: 0, members: ['a:1'] }, want: undefined },
    { name: 'an empty tag is refused', ring: { ...ring, tag: '' }, want: /^ring\.tag: empty/u },
    { name: 'no members is refused', ring: { ...ring, members: [] }, want: /members: empty/u },
    { name: 'an empty address is refused', ring: { ...ring, members: ['a:1', ' ', 'c:1'] }, want: /has an empty address/u },
    { name: 'a member twice is refused', ring: { ...ring, members: ['a:1', 'b:1', 'a:1'] }, want: /repeats a member/u },
    { name: 'a rank past the members is refused', ring: { ...ring, rank: 3 }, want: /rank: 3 is not a rank of its 3 members/u },
    { name: 'a fractional rank is refused', ring: { ...ring, rank: 0.5 }, want: /rank: 0\.5/u },
    { name: 'a time limit of its own is accepted', ring: { ...ring, timeoutMs: 250 }, want: undefined },
    { name: 'a time limit of 0 is refused', ring: { ...ring, timeoutMs: 0 }, want: /timeoutMs: 0 is not a positive time/u },
  ];
  for (const t of table) {
    void it(t.name, () => {
      const problem = ringProblem(t.ring);
      if (t.want === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? 'accepted', t.want);
    });
  }

  void it('the same ring is the same tag, rank and members in order', () => {
    assert.ok(sameRing(ring, { ...ring, members: [...ring.members] }));
    assert.ok(!sameRing(ring, { ...ring, rank: 0 }));
    assert.ok(!sameRing(ring, { ...ring, members: ['b:1', 'a:1', 'c:1'] }));
    assert.ok(!sameRing(ring, { ...ring, tag: 'group-1' }));
  });
});
