// runqlat: bpftrace's tools/runqlat.bt.
import { classicTool } from './tool.js';

export const runqlat = classicTool({
  name: 'runqlat',
  description: 'CPU scheduler run queue latency as a histogram',
});
