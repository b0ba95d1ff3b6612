// biosnoop: bpftrace's tools/biosnoop.bt, on the block raw tracepoints.
import { classicTool, hasTracepoint } from './tool.js';

export const biosnoop = classicTool({
  name: 'biosnoop',
  description: 'Block I/O tracing tool, showing per I/O latency',
  unavailable: () => (hasTracepoint('block', 'block_rq_issue') ? undefined : 'needs the block tracepoints'),
  // blk_account_io_start/done as raw tracepoints where the kernel has them (6.5+).
  vars: () =>
    hasTracepoint('block', 'block_io_start')
      ? { START: 'block_io_start', DONE: 'block_io_done' }
      : { START: 'block_rq_insert', DONE: 'block_rq_complete' },
});
