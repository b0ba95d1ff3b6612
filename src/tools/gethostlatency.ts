// gethostlatency: bpftrace's tools/gethostlatency.bt, on the system's libc.
import { findLibrary } from '../probes/uprobe.js';
import { classicTool, uprobeReason } from './tool.js';

const FUNCS = ['getaddrinfo', 'gethostbyname', 'gethostbyname2'];

export const gethostlatency = classicTool({
  name: 'gethostlatency',
  description: 'Show latency for getaddrinfo/gethostbyname[2] calls',
  unavailable: () => uprobeReason() ?? (findLibrary('c') ? undefined : 'needs libc (not found)'),
  vars: () => ({
    ENTRY: FUNCS.map((f) => `uprobe:libc:${f}`).join(',\n'),
    RETURN: FUNCS.map((f) => `uretprobe:libc:${f}`).join(',\n'),
  }),
});
