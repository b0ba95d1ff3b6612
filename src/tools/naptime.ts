// naptime: bpftrace's tools/naptime.bt, with clock_nanosleep() too.
import { classicTool } from './tool.js';

export const naptime = classicTool({
  name: 'naptime',
  description: 'Show voluntary sleep calls',
});
