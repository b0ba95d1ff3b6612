// rawtracepoint:EVENT: the tracepoint's raw arguments as u64 arg0..argN,
// without the perf buffer formatting cost of tracepoint:.
import { attachRawTracepoint } from '../bpf/link.js';
import { listEvents } from './tracefs.js';
import { globToRegExp, hasWildcard, ProbeError, type Provider, type ProbeTarget } from './provider.js';

export const PROG_RAW_TRACEPOINT = 17;

export const rawTracepointProvider: Provider = {
  names: ['rawtracepoint', 'rt'],
  expand(ap): ProbeTarget[] {
    // Newer bpftrace accepts `rawtracepoint:module:event`; the module part is not needed to attach.
    const name = ap.parts[ap.parts.length - 1];
    if (!name || ap.parts.length > 2) throw new ProbeError('rawtracepoint probe must name an event, e.g. rawtracepoint:sched_switch');
    let names = [name];
    if (hasWildcard(name)) {
      const re = globToRegExp(name);
      names = [...new Set(listEvents().map((e) => e.name).filter((n) => re.test(n)))];
    }
    return names.map((n) => ({
      provider: 'rawtracepoint',
      name: `rawtracepoint:${n}`,
      progType: PROG_RAW_TRACEPOINT,
      argN: (i: number) => (i < 12 ? { kind: 'ctx' as const, off: i * 8, size: 8 as const, signed: false } : undefined),
      data: { event: n },
    }));
  },
  attach(progFd, t) {
    return attachRawTracepoint(progFd, t.data.event as string);
  },
  list(pattern) {
    const re = globToRegExp(pattern.replace(/^(rawtracepoint|rt):/, '') || '*');
    return [...new Set(listEvents().map((e) => e.name))].filter((n) => re.test(n)).map((n) => `rawtracepoint:${n}`);
  },
};
