// The run folder (--dir), made one level at a time: Node's recursive mkdir never returns
// under /proc (each level fails with ENOENT and it retries the parent), and a user error
// should name --dir, not a bare errno.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from './user-error.js';

async function makeLevel(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT' && dirname(path) !== path) {
      await makeLevel(dirname(path));
      return mkdir(path).then(
        () => undefined,
        (again: NodeJS.ErrnoException) => {
          if (again.code !== 'EEXIST') throw new UserError(`--dir ${path}: cannot create it (${again.code ?? again.message})`);
        },
      );
    }
    throw new UserError(`--dir ${path}: cannot create it (${code ?? (err as Error).message})`);
  }
}

/** prepareRunDir creates `<dir>/logs` (and `dir`), refusing what is not a directory we may write. */
export async function prepareRunDir(dir: string): Promise<void> {
  await makeLevel(dir);
  await makeLevel(join(dir, 'logs'));
}
