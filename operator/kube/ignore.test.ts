import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeError } from './client.js';
import { ignoreConflict, ignoreNotFound } from './ignore.js';

const answer = (code: number): Promise<object> =>
  code === 200 ? Promise.resolve({ ok: true }) : Promise.reject(new KubeError(code, 'Reason', `code ${code}`));

void describe('ignoreNotFound and ignoreConflict', () => {
  void it('turn only their own answer into undefined and let every other error through', async () => {
    const cases = [
      { name: 'a success passes through', ignore: ignoreNotFound, code: 200, want: { ok: true } },
      { name: 'NotFound is ignored by ignoreNotFound', ignore: ignoreNotFound, code: 404, want: undefined },
      { name: 'a conflict is not ignored by ignoreNotFound', ignore: ignoreNotFound, code: 409, wantError: 'code 409' },
      { name: 'AlreadyExists or Conflict is ignored by ignoreConflict', ignore: ignoreConflict, code: 409, want: undefined },
      { name: 'a 422 is never ignored', ignore: ignoreConflict, code: 422, wantError: 'code 422' },
      { name: 'a 403 is never ignored', ignore: ignoreNotFound, code: 403, wantError: 'code 403' },
    ];
    for (const c of cases) {
      if (c.wantError) await assert.rejects(c.ignore(answer(c.code)), { message: c.wantError }, c.name);
      else assert.deepEqual(await c.ignore(answer(c.code)), c.want, c.name);
    }
  });
});
