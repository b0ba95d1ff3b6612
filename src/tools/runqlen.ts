// runqlen: bpftrace's tools/runqlen.bt; the CFS run queue's count field
// was renamed nr_running -> nr_queued in 6.14, so it is looked up in BTF.
import { CTypes } from '../analysis/ctypes.js';
import { classicTool } from './tool.js';

function nrField(): string {
  try {
    const names = new CTypes().lookup('struct cfs_rq')?.members?.().map((m) => m.name) ?? [];
    if (names.includes('nr_queued')) return 'nr_queued';
  } catch {
    /* no BTF: the classic name */
  }
  return 'nr_running';
}

export const runqlen = classicTool({
  name: 'runqlen',
  description: 'CPU scheduler run queue length as a histogram',
  vars: () => ({ NR_FIELD: nrField() }),
});
