// syncsnoop: bpftrace's tools/syncsnoop.bt.
import { classicTool } from './tool.js';

export const syncsnoop = classicTool({
  name: 'syncsnoop',
  description: 'Trace sync() variety of syscalls',
});
