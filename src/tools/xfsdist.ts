// xfsdist: bpftrace's tools/xfsdist.bt; kprobes and kretprobes only.
import { classicTool, kprobeReason } from './tool.js';

export const xfsdist = classicTool({
  name: 'xfsdist',
  description: 'Summarize XFS operation latency',
  unavailable: () => kprobeReason('xfs_file_*()'),
});
