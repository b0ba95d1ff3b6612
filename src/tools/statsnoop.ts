// statsnoop: bpftrace's tools/statsnoop.bt, with the stat calls libc uses today.
import { classicTool, hasTracepoint } from './tool.js';

/** Syscall -> the field holding its path. */
const CALLS: [string, string][] = [
  ['statfs', 'pathname'], ['statx', 'filename'], ['newstat', 'filename'], ['newlstat', 'filename'], ['newfstatat', 'filename'],
];

export const statsnoop = classicTool({
  name: 'statsnoop',
  description: 'Trace stat() syscalls',
  vars: () => {
    const calls = CALLS.filter(([c]) => hasTracepoint('syscalls', `sys_enter_${c}`));
    const byField = new Map<string, string[]>();
    for (const [c, f] of calls) byField.set(f, [...(byField.get(f) ?? []), c]);
    const entries = [...byField].map(([f, cs]) => `${cs.map((c) => `tracepoint:syscalls:sys_enter_${c}`).join(',\n')}\n{\n\t@filename[tid] = args.${f};\n}`);
    return { ENTRIES: entries.join('\n\n'), EXITS: calls.map(([c]) => `tracepoint:syscalls:sys_exit_${c}`).join(',\n') };
  },
});
