// The provider table: every attach point's provider name (or alias) maps to
// one provider file. The compiler resolves attach points only through here.
// The providers behind ELF, DWARF and kernel BTF reading (uprobes, USDT,
// kprobes, fentry, and the rarer hardware, watchpoint and iter) live in
// more.ts, which registers them when loaded: the CLI loads it only for a
// program that names one of them (loadProvidersFor), so a tracepoint
// one-liner neither loads nor initializes that code. The library entry, the
// tools and `-l` load it up front.
import type { AttachPoint, Program } from '../lang/ast.js';
import { beginProvider, endProvider } from './special.js';
import { intervalProvider, profileProvider } from './interval.js';
import { tracepointProvider } from './tracepoint.js';
import { rawTracepointProvider } from './rawtracepoint.js';
import { softwareProvider } from './software.js';
import { ProbeError, type ExpandEnv, type Provider, type ProbeTarget } from './provider.js';

export interface ProviderOptions {
  maxStrlen: number;
}

/** What more.ts adds, by place in bpftrace's provider order. */
export interface MoreProviders {
  user: (opts: ProviderOptions) => Provider[];
  kernel: (opts: ProviderOptions) => Provider[];
  rest: (opts: ProviderOptions) => Provider[];
}

let more: MoreProviders | undefined;

/** Called by more.ts as it loads. */
export function registerMoreProviders(m: MoreProviders): void {
  more = m;
}

export function providers(opts: ProviderOptions): Provider[] {
  return [
    beginProvider, endProvider, intervalProvider, profileProvider, tracepointProvider(opts), rawTracepointProvider,
    ...(more?.user(opts) ?? []), ...(more?.kernel(opts) ?? []),
    softwareProvider, ...(more?.rest(opts) ?? []),
  ];
}

const BASIC_NAMES = new Set([beginProvider, endProvider, intervalProvider, profileProvider, tracepointProvider({ maxStrlen: 0 }), rawTracepointProvider, softwareProvider].flatMap((p) => p.names));

/** Loads every provider (more.ts), once. */
export async function loadProviders(): Promise<void> {
  if (!more) await import('./more.js');
}

/** Loads more.ts when `program` names a provider the basic set lacks (an unknown name too: the error comes from the full table). */
export async function loadProvidersFor(program: Program): Promise<void> {
  if (!more && program.probes.some((p) => p.attachPoints.some((ap) => !BASIC_NAMES.has(ap.provider)))) await loadProviders();
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
