// The providers that read ELF, DWARF or kernel BTF, registered with the
// provider table (index.ts) when this module loads.
import { registerMoreProviders } from './index.js';
import { uprobeProvider, uretprobeProvider } from './uprobe.js';
import { usdtProvider } from './usdt.js';
import { kprobeProvider, kretprobeProvider } from './kprobe.js';
import { fentryProvider, fexitProvider } from './fentry.js';
import { hardwareProvider } from './hardware.js';
import { watchpointProvider } from './watchpoint.js';
import { iterProvider } from './iter.js';

registerMoreProviders({
  user: () => [uprobeProvider, uretprobeProvider, usdtProvider],
  kernel: (opts) => [kprobeProvider, kretprobeProvider, fentryProvider(opts), fexitProvider(opts)],
  rest: (opts) => [hardwareProvider, watchpointProvider, iterProvider(opts)],
});
