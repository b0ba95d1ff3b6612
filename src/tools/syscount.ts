// syscount: bpftrace's tools/syscount.bt.
import { classicTool } from './tool.js';

export const syscount = classicTool({
  name: 'syscount',
  description: 'Count system calls',
});
