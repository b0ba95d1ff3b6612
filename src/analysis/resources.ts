// Program-wide resources the type pass discovers and codegen and the runtime
// share: the maps with their key/value types, and the table of async events
// (printf, print, exit...) the kernel sends to user space.
import type { Loc } from '../lang/ast.js';
import { tupleTy, type Ty } from './types.js';

export type Agg = 'none' | 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stats' | 'hist' | 'lhist';

export interface MapInfo {
  name: string;
  /** null for `@x` without keys. */
  keys: Ty[] | null;
  /** Packed layout of the key (a tuple of the keys), after sizes were unified. */
  value: Ty;
  agg: Agg;
  /** hist: log2 sub-bucket bits; lhist: min, max, step. */
  histK?: number;
  lhist?: { min: bigint; max: bigint; step: bigint };
  loc: Loc;
  /** Maps only ever read through for-loops or print need the same layout as any other. */
  used: boolean;
}

export function keyLayout(m: MapInfo): Ty & { k: 'tuple' } {
  return tupleTy(m.keys ?? []);
}

/** Bytes of the BPF map key: the user key, plus the bucket index for hist/lhist maps. */
export function mapKeySize(m: MapInfo): number {
  const k = m.keys ? keyLayout(m).size : 8;
  return m.agg === 'hist' || m.agg === 'lhist' ? k + 8 : k;
}

/** Bytes of one (per-CPU) value. */
export function mapValueSize(m: MapInfo): number {
  switch (m.agg) {
    case 'count':
    case 'sum':
    case 'hist':
    case 'lhist':
      return 8;
    case 'min':
    case 'max':
    case 'avg':
    case 'stats':
      return 16;
    default:
      return Math.max(8, Math.ceil(m.value.size / 8) * 8);
  }
}

export function isPerCpu(m: MapInfo): boolean {
  return m.agg !== 'none';
}

export type EventKind =
  | 'printf' | 'errorf' | 'warnf' | 'debugf' | 'print_value' | 'print_map' | 'clear' | 'zero' | 'exit'
  | 'time' | 'join' | 'cat' | 'system' | 'strftime_print' | 'seen_pid' | 'helper_error';

export interface EventSpec {
  id: number;
  kind: EventKind;
  /** printf-style format (printf, time, system, errorf...). */
  fmt?: string;
  args: Ty[];
  layout: Ty & { k: 'tuple' };
  /** print(@m, top, div) / clear / zero: which map. */
  map?: string;
  loc: Loc;
  /** join: separator. */
  sep?: string;
}

/** Bytes before the payload of each event record: the u64 event id. */
export const EVENT_HEADER = 8;

export class Resources {
  readonly maps = new Map<string, MapInfo>();
  readonly events: EventSpec[] = [];
  /** Stack-trace maps the program needs: kernel and/or user. */
  readonly stackMaps = new Set<'k' | 'u'>();
  /** Set when user addresses are recorded: the kernel reports each new pid once so its mappings can be kept. */
  seenPid?: EventSpec;

  addEvent(kind: EventKind, args: Ty[], loc: Loc, extra: Partial<EventSpec> = {}): EventSpec {
    const spec: EventSpec = { id: this.events.length, kind, args, layout: tupleTy(args), loc, ...extra };
    this.events.push(spec);
    return spec;
  }
}
