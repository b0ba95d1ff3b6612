// The provider table: every attach point's provider name (or alias) maps to
// one provider file. The compiler resolves attach points only through here.
import type { AttachPoint } from '../lang/ast.js';
import { beginProvider, endProvider } from './special.js';
import { intervalProvider, profileProvider } from './interval.js';
import { tracepointProvider } from './tracepoint.js';
import { rawTracepointProvider } from './rawtracepoint.js';
import { uprobeProvider, uretprobeProvider } from './uprobe.js';
import { usdtProvider } from './usdt.js';
import { kprobeProvider, kretprobeProvider } from './kprobe.js';
import { fentryProvider, fexitProvider } from './fentry.js';
import { softwareProvider } from './software.js';
import { hardwareProvider } from './hardware.js';
import { watchpointProvider } from './watchpoint.js';
import { iterProvider } from './iter.js';
import { ProbeError, type ExpandEnv, type Provider, type ProbeTarget } from './provider.js';

export interface ProviderOptions {
  maxStrlen: number;
}

export function providers(opts: ProviderOptions): Provider[] {
  return [
    beginProvider, endProvider, intervalProvider, profileProvider, tracepointProvider(opts), rawTracepointProvider,
    uprobeProvider, uretprobeProvider, usdtProvider, kprobeProvider, kretprobeProvider, fentryProvider(opts), fexitProvider(opts),
    softwareProvider, hardwareProvider, watchpointProvider, iterProvider(opts),
  ];
}

export function findProvider(list: Provider[], name: string): Provider | undefined {
  return list.find((p) => p.names.includes(name));
}

/** Expands one attach point; throws ProbeError with bpftrace's wording when it cannot. */
export function expand(list: Provider[], ap: AttachPoint, env: ExpandEnv): ProbeTarget[] {
  const p = findProvider(list, ap.provider);
  if (!p) throw new ProbeError(`Invalid provider: '${ap.provider}'`);
  const targets = p.expand(ap, env);
  if (!targets.length) throw new ProbeError(`No probes matched: ${ap.raw}`);
  return targets;
}

export { ProbeError };
export type { Provider, ProbeTarget };
