// mdflush: bpftrace's tools/mdflush.bt; kprobes only.
import { classicTool, kprobeReason } from './tool.js';

export const mdflush = classicTool({
  name: 'mdflush',
  description: 'Trace md flush events',
  unavailable: () => kprobeReason('md_flush_request()'),
});
