// vfscount: bpftrace's tools/vfscount.bt; kprobes only.
import { classicTool, kprobeReason } from './tool.js';

export const vfscount = classicTool({
  name: 'vfscount',
  description: 'Count VFS calls',
  unavailable: () => kprobeReason('vfs_*()'),
});
