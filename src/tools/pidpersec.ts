// pidpersec: bpftrace's tools/pidpersec.bt.
import { classicTool } from './tool.js';

export const pidpersec = classicTool({
  name: 'pidpersec',
  description: 'Count new processes (via fork)',
});
