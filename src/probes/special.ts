// BEGIN and END: programs run once from user space (BPF_PROG_TEST_RUN on a
// raw tracepoint program), so they need no kernel event at all.
import type { AttachPoint } from '../lang/ast.js';
import { ProbeError, type Provider, type ProbeTarget } from './provider.js';

export const PROG_RAW_TRACEPOINT = 17;

function special(kind: 'begin' | 'end', names: string[]): Provider {
  return {
    names,
    expand(ap: AttachPoint): ProbeTarget[] {
      if (ap.parts.length) throw new ProbeError(`${ap.provider} probes take no arguments`);
      return [{ provider: kind, name: ap.provider, progType: PROG_RAW_TRACEPOINT, special: kind, data: {} }];
    },
  };
}

export const beginProvider = special('begin', ['BEGIN', 'begin']);
export const endProvider = special('end', ['END', 'end']);
