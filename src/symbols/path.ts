// Finding a program by name on a search path, as exec and `which` do; shared
// by `-c CMD` and uprobe targets given without a directory.
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `dir/name` among `dirs` that is an executable file. */
export function findExecutable(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}
