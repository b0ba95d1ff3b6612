// loads: bpftrace's tools/loads.bt, which reads the kernel's avenrun[].
import { kaddr } from '../symbols/kallsyms.js';
import { classicTool } from './tool.js';

export const loads = classicTool({
  name: 'loads',
  description: 'Print load averages',
  unavailable: () => {
    try {
      if (kaddr('avenrun') !== 0n) return undefined;
    } catch {
      /* no kallsyms at all */
    }
    return "needs the address of avenrun, which /proc/kallsyms does not list on this kernel (data symbols need CONFIG_KALLSYMS_ALL); no tracepoint carries the load averages";
  },
});
