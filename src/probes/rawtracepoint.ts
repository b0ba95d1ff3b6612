// rawtracepoint:EVENT: the tracepoint's raw arguments as u64 arg0..argN,
// without the perf buffer formatting cost of tracepoint:.
import { attachRawTracepoint } from '../bpf/link.js';
import { Btf } from '../btf/index.js';
import { listEvents } from './tracefs.js';
import { globToRegExp, hasWildcard, ProbeError, type Provider, type ProbeTarget } from './provider.js';

export const PROG_RAW_TRACEPOINT = 17;

export const rawTracepointProvider: Provider = {
  names: ['rawtracepoint', 'rt'],
  expand(ap): ProbeTarget[] {
    // Newer bpftrace accepts `rawtracepoint:module:event`; the module part is not needed to attach.
    const name = ap.parts[ap.parts.length - 1];
    if (!name || ap.parts.length > 2) throw new ProbeError('rawtracepoint probe must name an event, e.g. rawtracepoint:sched_switch');
    const module = ap.parts.length === 2 ? ap.parts[0] : undefined;
    let names = [name];
    if (hasWildcard(name)) {
      const re = globToRegExp(name);
      names = [...new Set(listEvents().map((e) => e.name).filter((n) => re.test(n)))];
    }
    const wild = hasWildcard(name);
    return names.flatMap((n) => {
      // The kernel's own record of a raw tracepoint: `btf_trace_<name>`, a
      // pointer to the prototype of its probe functions (void *data, args...).
      // Events that have none (syscalls' sys_enter_*) are not raw tracepoints.
      const nargs = rawTracepointArgCount(n, module);
      if (nargs === null && wild) return [];
      if (nargs === null) throw new ProbeError(`rawtracepoint not found: ${module ? `${module}:` : ''}${n}`);
      const max = nargs ?? 12;
      return [{
        provider: 'rawtracepoint',
        name: `rawtracepoint:${n}`,
        progType: PROG_RAW_TRACEPOINT,
        argN: (i: number) => (i < max ? { kind: 'ctx' as const, off: i * 8, size: 8 as const, signed: false } : undefined),
        data: { event: n, nargs },
      }];
    });
  },
  attach(progFd, t) {
    return attachRawTracepoint(progFd, t.data.event as string);
  },
  list(pattern) {
    const re = globToRegExp(pattern.replace(/^(rawtracepoint|rt):/, '') || '*');
    return [...new Set(listEvents().map((e) => e.name))].filter((n) => re.test(n)).map((n) => `rawtracepoint:${n}`);
  },
};

/**
 * How many arguments the raw tracepoint `name` passes, from its
 * `btf_trace_<name>` typedef in vmlinux (or `module`'s) BTF; null when the
 * kernel has no such tracepoint, undefined when that cannot be known (no
 * BTF: then tracefs says whether the event exists, and up to 12 are allowed).
 */
export function rawTracepointArgCount(name: string, module?: string): number | null | undefined {
  if (!Btf.available()) {
    return listEvents().some((e) => e.name === name) ? undefined : null;
  }
  const mods = module ? [module] : ['vmlinux', ...Btf.moduleNames()];
  for (const m of mods) {
    let btf: Btf;
    try {
      btf = m === 'vmlinux' ? Btf.vmlinux() : Btf.module(m);
    } catch {
      continue;
    }
    const id = btf.findByName(`btf_trace_${name}`, 'typedef');
    if (id === undefined) continue;
    const ptr = btf.type(btf.resolve(id));
    if (ptr.kind !== 'ptr') return undefined;
    const proto = btf.type(btf.resolve(ptr.type));
    if (proto.kind !== 'func_proto') return undefined;
    return Math.max(0, proto.params.length - 1);
  }
  return null;
}
