// cpuwalk: bpftrace's tools/cpuwalk.bt.
import { classicTool } from './tool.js';

export const cpuwalk = classicTool({
  name: 'cpuwalk',
  description: 'Sample which CPUs are executing processes',
});
