// software:EVENT[:COUNT]: the kernel's software perf events (page faults,
// context switches, cpu-clock...) sampled every COUNT occurrences. Without
// -p the event is counted on every CPU (one perf event each); with -p it
// follows that process wherever it runs.
import type { AttachPoint } from '../lang/ast.js';
import { findSoftwareEvent, openSoftware, SOFTWARE_EVENTS, type NamedEvent, type PerfEvent } from '../bpf/perf.js';
import { attachPerfEvent } from '../bpf/link.js';
import { ProgType } from '../bpf/program.js';
import { splitAttachPoint } from '../lang/attach.js';
import { globToRegExp, ProbeError, type AttachEnv, type Attachment, type Provider, type ProbeTarget } from './provider.js';

/** `EVENT` or `EVENT:COUNT`; without a count, the event's usual period. */
export function parseCountedEvent(ap: AttachPoint, kind: string, find: (name: string) => NamedEvent | undefined): { event: NamedEvent; name: string; period: number } {
  if (ap.parts.length < 1 || ap.parts.length > 2 || ap.parts[0] === '') {
    throw new ProbeError(`${kind} probe type requires 1 or 2 arguments`, `HINT: ${kind}:EVENT or ${kind}:EVENT:COUNT`);
  }
  const [name, countText] = ap.parts;
  const event = find(name);
  if (!event) throw new ProbeError(`Invalid ${kind} probe: '${name}' is not a ${kind} event`, `HINT: bpfkit -l '${kind}:*' lists them`);
  let period = event.defaultPeriod;
  if (countText !== undefined && countText !== '') {
    if (!/^\d+$/.test(countText) || Number(countText) === 0) throw new ProbeError(`${kind} probe count must be a positive integer, not '${countText}'`);
    period = Number(countText);
  }
  return { event, name, period };
}

/** Opens one event per online CPU, or one following -p's process, and attaches the program to each. */
export function attachCounted(progFd: number, env: AttachEnv, open: (cpu: number, pid: number) => PerfEvent): Attachment {
  const parts: Attachment[] = [];
  try {
    if (env.pid !== undefined) parts.push(attachPerfEvent(progFd, open(-1, env.pid)));
    else for (const cpu of env.onlineCpus) parts.push(attachPerfEvent(progFd, open(cpu, -1)));
  } catch (e) {
    for (const p of parts.reverse()) p.close();
    throw e;
  }
  return { close: () => parts.reverse().forEach((p) => p.close()) };
}

/** `-l` lines for a table of named events: every name and alias, as `PROVIDER:NAME:`. */
export function listNamed(kind: string, table: NamedEvent[], pattern: string): string[] {
  const parts = splitAttachPoint(pattern).parts;
  const re = globToRegExp(parts[0] || '*');
  return [...new Set(table.flatMap((e) => e.names).filter((n) => re.test(n)).map((n) => `${kind}:${n}:`))].sort();
}

export const softwareProvider: Provider = {
  names: ['software', 's'],
  expand(ap): ProbeTarget[] {
    const { event, name, period } = parseCountedEvent(ap, 'software', findSoftwareEvent);
    return [{
      provider: 'software',
      name: ap.parts[1] ? `software:${name}:${ap.parts[1]}` : `software:${name}`,
      progType: ProgType.PERF_EVENT,
      data: { config: event.config, period },
    }];
  },
  attach(progFd, t, env) {
    const { config, period } = t.data as { config: number; period: number };
    return attachCounted(progFd, env, (cpu, pid) => openSoftware(config, { pid, cpu, period }));
  },
  list: (pattern) => listNamed('software', SOFTWARE_EVENTS, pattern),
};
