// dcsnoop: bpftrace's tools/dcsnoop.bt; kprobes only.
import { classicTool, kprobeReason } from './tool.js';

export const dcsnoop = classicTool({
  name: 'dcsnoop',
  description: 'Trace directory entry cache (dcache) lookups',
  unavailable: () => kprobeReason('lookup_fast() and d_lookup()'),
});
