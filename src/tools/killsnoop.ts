// killsnoop: bpftrace's tools/killsnoop.bt.
import { classicTool } from './tool.js';

export const killsnoop = classicTool({
  name: 'killsnoop',
  description: 'Trace signals issued by the kill() syscall',
});
