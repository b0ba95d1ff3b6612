// setuids: bpftrace's tools/setuids.bt.
import { classicTool } from './tool.js';

export const setuids = classicTool({
  name: 'setuids',
  description: 'Trace the setuid syscalls: privilege escalation',
});
