// oomkill: bpftrace's tools/oomkill.bt, on the oom:mark_victim tracepoint.
import { classicTool, hasTracepoint } from './tool.js';

export const oomkill = classicTool({
  name: 'oomkill',
  description: 'Trace OOM killer',
  unavailable: () => (hasTracepoint('oom', 'mark_victim') ? undefined : 'needs the oom:mark_victim tracepoint'),
  // The tracepoint gives sizes in KiB.
  vars: () => ({ PAGE_KB: 4 }),
});
