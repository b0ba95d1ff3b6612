// writeback: bpftrace's tools/writeback.bt; the reason names come from the
// tracepoint's own table, which changes between kernels.
import { classicTool, hasTracepoint, symbolicTable, tableLines } from './tool.js';

export const writeback = classicTool({
  name: 'writeback',
  description: 'Trace file system writeback',
  unavailable: () => (hasTracepoint('writeback', 'writeback_written') ? undefined : 'needs the writeback tracepoints'),
  vars: () => ({ REASONS: tableLines('reason', symbolicTable('writeback', 'writeback_start', 'reason')) }),
});
