// vfsstat: bpftrace's tools/vfsstat.bt, from the system calls behind each VFS function.
import { classicTool, hasTracepoint } from './tool.js';

/** VFS function -> the syscalls that call it. */
const CALLS: [string, string[]][] = [
  ['vfs_read', ['read', 'pread64']],
  ['vfs_readv', ['readv', 'preadv', 'preadv2']],
  ['vfs_write', ['write', 'pwrite64']],
  ['vfs_writev', ['writev', 'pwritev', 'pwritev2']],
  ['vfs_fsync', ['fsync', 'fdatasync']],
  ['vfs_open', ['open', 'openat', 'openat2', 'creat']],
  ['vfs_create', ['creat', 'mknod', 'mknodat']],
];

export const vfsstat = classicTool({
  name: 'vfsstat',
  description: 'Count some VFS calls, with per-second summaries',
  vars: () => ({
    PROBES: CALLS.map(([fn, calls]) => {
      const tps = calls.filter((c) => hasTracepoint('syscalls', `sys_enter_${c}`)).map((c) => `tracepoint:syscalls:sys_enter_${c}`);
      return tps.length ? `${tps.join(',\n')}\n{\n\t@["${fn}"] = count();\n}` : '';
    }).filter(Boolean).join('\n\n'),
  }),
});
