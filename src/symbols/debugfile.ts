// Where a stripped binary's symbols went: GDB's rules for separate debug
// files, which Debian's -dbg/-dbgsym packages follow: by build id under
// /usr/lib/debug/.build-id, else by the `.gnu_debuglink` name next to the
// binary, in its .debug/ directory, or mirrored under /usr/lib/debug.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zlib } from '../lazy.js';

export const DEBUG_ROOT = '/usr/lib/debug';

export interface DebugCandidate {
  path: string;
  /** How to confirm the candidate belongs to the binary. */
  by: 'build-id' | 'debuglink';
}

export function debugFileCandidates(
  path: string,
  buildId: string | null,
  link: { file: string; crc: number } | null,
  root = DEBUG_ROOT,
): DebugCandidate[] {
  const out: DebugCandidate[] = [];
  if (buildId && buildId.length > 2) {
    out.push({ path: join(root, '.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`), by: 'build-id' });
  }
  if (link && link.file) {
    let dir = dirname(path);
    try {
      dir = dirname(realpathSync(path));
    } catch {
      // keep the given directory
    }
    for (const p of [join(dir, link.file), join(dir, '.debug', link.file), join(root, dir, link.file)]) {
      out.push({ path: p, by: 'debuglink' });
    }
  }
  return out.filter((c) => c.path !== path && existsSync(c.path));
}

/** The CRC `.gnu_debuglink` records: plain CRC-32 of the whole debug file. */
export function debugLinkCrc(path: string): number {
  return zlib().crc32(readFileSync(path)) >>> 0;
}
