// bitesize: bpftrace's tools/bitesize.bt.
import { classicTool, hasTracepoint } from './tool.js';

export const bitesize = classicTool({
  name: 'bitesize',
  description: 'Show disk I/O size as a histogram',
  unavailable: () => (hasTracepoint('block', 'block_rq_issue') ? undefined : 'needs the block:block_rq_issue tracepoint'),
});
