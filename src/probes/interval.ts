// interval:UNIT:N fires on one CPU at a fixed rate; profile:UNIT:N on every
// CPU. Both are cpu-clock software events sampling at the given period.
import type { AttachPoint } from '../lang/ast.js';
import { openSoftware } from '../bpf/perf.js';
import { attachPerfEvent } from '../bpf/link.js';
import { ProbeError, type AttachEnv, type Attachment, type Provider, type ProbeTarget } from './provider.js';

export const PROG_PERF_EVENT = 7;

const UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/** Parses the rate parts into a period in ns or a frequency in Hz. */
export function parseRate(ap: AttachPoint, kind: string): { periodNs?: bigint; hz?: number; label: string } {
  let [unit, count] = ap.parts;
  if (ap.parts.length === 1) {
    // `interval:1s` / `profile:99hz` shorthand of newer bpftrace.
    const m = /^(\d+)(s|ms|us|ns|hz)$/.exec(ap.parts[0]);
    if (m) [count, unit] = [m[1], m[2]];
  }
  if (!unit || count === undefined || !/^\d+$/.test(count)) throw new ProbeError(`${kind} probe must have unit and count, e.g. ${kind}:s:1`);
  const n = BigInt(count);
  if (n === 0n) throw new ProbeError(`${kind} rate must be greater than zero`);
  if (unit === 'hz') return { hz: Number(n), label: `${kind}:hz:${count}` };
  const mult = UNIT_NS[unit];
  if (!mult) throw new ProbeError(`${unit} is not an accepted unit of time`);
  return { periodNs: n * mult, label: `${kind}:${unit}:${count}` };
}

function rateProvider(kind: 'interval' | 'profile', names: string[]): Provider {
  return {
    names,
    expand(ap): ProbeTarget[] {
      const r = parseRate(ap, kind);
      return [{ provider: kind, name: r.label, progType: PROG_PERF_EVENT, data: { periodNs: r.periodNs, hz: r.hz } }];
    },
    attach(progFd, t, env: AttachEnv): Attachment {
      const cpus = kind === 'interval' ? [env.onlineCpus[0] ?? 0] : env.onlineCpus;
      const parts: { close(): void }[] = [];
      try {
        for (const cpu of cpus) {
          const opts = t.data.hz !== undefined ? { freq: t.data.hz as number } : { period: t.data.periodNs as bigint };
          const ev = openSoftware('cpu-clock', { ...opts, pid: -1, cpu });
          // The link owns the event and closes it with itself.
          parts.push(attachPerfEvent(progFd, ev));
        }
      } catch (e) {
        for (const p of parts.reverse()) p.close();
        throw e;
      }
      return { close: () => parts.reverse().forEach((p) => p.close()) };
    },
  };
}

export const intervalProvider = rateProvider('interval', ['interval', 'i']);
export const profileProvider = rateProvider('profile', ['profile', 'p']);
