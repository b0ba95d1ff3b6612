// threadsnoop: bpftrace's tools/threadsnoop.bt; pthread_create() lives in
// libc since glibc 2.34, in libpthread before.
import { readFileSync } from 'node:fs';
import { findLibrary } from '../probes/uprobe.js';
import { classicTool, uprobeReason } from './tool.js';

function library(): string {
  for (const lib of ['c', 'pthread']) {
    const path = findLibrary(lib);
    if (path && readFileSync(path).includes('pthread_create@@')) return path;
  }
  return 'libpthread';
}

export const threadsnoop = classicTool({
  name: 'threadsnoop',
  description: 'List new thread creation',
  unavailable: () => uprobeReason(),
  vars: () => ({ LIBC: library() }),
});
