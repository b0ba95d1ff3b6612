// threadsnoop: bpftrace's tools/threadsnoop.bt; pthread_create() lives in
// libc since glibc 2.34, in libpthread before.
import { classicTool, libraryDefines, uprobeReason } from './tool.js';

function library(): string {
  return libraryDefines('c', ['pthread_create']).length ? 'libc' : 'libpthread';
}

export const threadsnoop = classicTool({
  name: 'threadsnoop',
  description: 'List new thread creation',
  unavailable: () => uprobeReason(),
  vars: () => ({ LIBC: library() }),
});
