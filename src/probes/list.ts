// `-l [PATTERN]` and `-lv`: the probes every provider can offer, printed the
// way bpftrace 0.17 prints them: one `provider:...` line per probe, sorted
// and without duplicates within a provider, providers in name order; with
// -v each probe is followed by its fields or parameters, indented four
// spaces (tracepoint format fields, BTF parameters of kernel functions, USDT
// argument operands).
import { hasFentry, hasKprobes } from '../bpf/features.js';
import { splitAttachPoint } from '../lang/attach.js';
import { eventFormat, formatFieldForListing } from './tracefs.js';
import { hasWildcard, ProbeError, type ListEnv, type Provider } from './provider.js';

export interface ListOptions extends ListEnv {
  /** Told about providers that cannot list here (why, one line). */
  warn?: (message: string) => void;
}

/**
 * Providers a provider wildcard (`-l`, `-l '*:...'`) walks, by the name their
 * lines carry. Return probes repeat their entry probe, and uprobes/usdt need
 * a binary, so bpftrace leaves them out; `kfunc` only where fentry works.
 */
const KERNEL_LIST: { shown: string; provider: string; available?: () => boolean }[] = [
  { shown: 'hardware', provider: 'hardware' },
  { shown: 'iter', provider: 'iter' },
  { shown: 'kfunc', provider: 'fentry', available: hasFentry },
  { shown: 'kprobe', provider: 'kprobe' },
  { shown: 'software', provider: 'software' },
  { shown: 'tracepoint', provider: 'tracepoint' },
];

/** Groups of a header line and its indented detail lines, sorted by header, duplicates dropped. */
function sortGroups(lines: string[]): string[] {
  const groups = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const l of lines) {
    if (l.startsWith(' ') && cur) cur.push(l);
    else if (!l.startsWith(' ')) {
      cur = groups.has(l) ? undefined : [];
      if (cur) groups.set(l, cur);
    }
  }
  return [...groups.keys()].sort().flatMap((k) => [k, ...groups.get(k)!]);
}

/** `    const char * filename` lines of a tracepoint's non-common fields. */
function tracepointFields(line: string): string[] {
  const [, cat, name] = line.split(':');
  try {
    return eventFormat(cat, name).fields.filter((f) => !f.common).map(formatFieldForListing);
  } catch {
    return [];
  }
}

function listOne(p: Provider, shown: string, rest: string, verbose: boolean, opts: ListOptions): string[] {
  if (!p.list) return [];
  if (p.names[0] === 'kprobe' && !hasKprobes()) {
    opts.warn?.('kprobes are not available on this kernel (no kprobe PMU): not listing kernel functions');
    return [];
  }
  let lines: string[];
  try {
    lines = p.list(`${shown}:${rest}`, verbose, { pid: opts.pid, warn: opts.warn });
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    opts.warn?.(`cannot list ${shown} probes: ${(e as Error).message}`);
    return [];
  }
  if (verbose && p.names[0] === 'tracepoint') lines = lines.flatMap((l) => [l, ...tracepointFields(l)]);
  return sortGroups(lines);
}

/**
 * The `-l` output for `pattern` (PROVIDER:..., a provider glob, or a bare
 * name searched in every kernel provider), one line per element.
 * Throws ProbeError for a provider that does not exist.
 */
export function listProbes(pattern: string | undefined, verbose: boolean, providers: Provider[], opts: ListOptions = {}): string[] {
  let text = (pattern ?? '').trim() || '*';
  // A bare word is looked for anywhere after the provider: `-l 'sys_enter_open*'`.
  if (!text.includes(':')) text = `*:*${text}`;
  const { provider } = splitAttachPoint(text);
  const rest = text.slice(text.indexOf(':') + 1);
  if (!hasWildcard(provider)) {
    const p = providers.find((x) => x.names.includes(provider));
    if (!p) throw new ProbeError(`Invalid provider: '${provider}'`);
    return listOne(p, p.names[0] === 'fentry' && provider === 'kfunc' ? 'kfunc' : p.names[0] === 'fexit' && provider === 'kretfunc' ? 'kretfunc' : p.names[0], rest, verbose, opts);
  }
  const re = new RegExp(`^${provider.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const out: string[] = [];
  for (const k of KERNEL_LIST) {
    if (!re.test(k.shown) || (k.available && !k.available())) continue;
    const p = providers.find((x) => x.names[0] === k.provider);
    if (p) out.push(...listOne(p, k.shown, rest, verbose, opts));
  }
  return out;
}
