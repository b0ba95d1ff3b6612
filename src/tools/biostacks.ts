// biostacks: bpftrace's tools/biostacks.bt, on the block raw tracepoints.
import { classicTool, hasTracepoint } from './tool.js';

export const biostacks = classicTool({
  name: 'biostacks',
  description: 'Show disk I/O latency with initialization stacks',
  unavailable: () => (hasTracepoint('block', 'block_rq_issue') ? undefined : 'needs the block tracepoints'),
  vars: () => ({ START: hasTracepoint('block', 'block_io_start') ? 'block_io_start' : 'block_rq_insert' }),
});
