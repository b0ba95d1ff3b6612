// swapin: bpftrace's tools/swapin.bt; kprobes only.
import { kaddr } from '../symbols/kallsyms.js';
import { classicTool, kprobeReason } from './tool.js';

/** swap_readpage() became swap_read_folio() in 6.7. */
function func(): string {
  try {
    if (kaddr('swap_read_folio') !== 0n) return 'swap_read_folio';
  } catch {
    /* no kallsyms */
  }
  return 'swap_readpage';
}

export const swapin = classicTool({
  name: 'swapin',
  description: 'Show swapins by process',
  unavailable: () => kprobeReason('swap_read_folio()'),
  vars: () => ({ FUNC: func() }),
});
