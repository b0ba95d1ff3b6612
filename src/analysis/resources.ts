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
  /** Walked by `for ($kv : @m)`: its callback reads keys in the nominal layout, so no string buckets. */
  iterated?: boolean;
}

export function keyLayout(m: MapInfo): Ty & { k: 'tuple' } {
  return tupleTy(m.keys ?? []);
}

/** Bytes of the BPF map key: the user key, plus the bucket index for hist/lhist maps. */
export function mapKeySize(m: MapInfo): number {
  const k = m.keys ? keyLayout(m).size : 8;
  return m.agg === 'hist' || m.agg === 'lhist' ? k + 8 : k;
}

/**
 * String keys are stored in several BPF maps by length. The kernel hashes and
 * compares a hash key's every byte, so a max_strlen (1024) key costs far more
 * than the short strings (file names, comms) it usually holds. A map whose key
 * ends in one long string gets one BPF map per bucket size; the bucket is
 * picked from the string's length at run time, so a string always lands in
 * the same part. Strings are kept zero-filled from their NUL to at least the
 * 64th byte (to their end when longer), so "the string fits in B bytes" is
 * "byte B-1 is 0".
 */
export const STR_BUCKETS = [16, 64, 256];
/** Strings are zero from their NUL to at least this many bytes (see strBuckets). */
export const STR_CANON = 64;

export interface StrBuckets {
  /** Offset of the string in the physical key: after the hist/lhist index (which moves to the front) and the other key parts. */
  strOff: number;
  /** Offset of the string in the nominal key (keyLayout). */
  nominalOff: number;
  /** 8 when a hist/lhist bucket index leads the physical key. */
  base: number;
  /** The string's full size. */
  size: number;
  /** The string sizes of the parts, smallest first; the last is `size`. */
  sizes: number[];
}

const bucketCache = new WeakMap<MapInfo, StrBuckets | null>();

export function strBuckets(m: MapInfo): StrBuckets | undefined {
  let b = bucketCache.get(m);
  if (b === undefined) {
    b = null;
    if (m.keys?.length && !m.iterated) {
      const l = keyLayout(m);
      const last = l.elems.length - 1;
      const t = l.elems[last];
      if (t.k === 'str' && t.size > STR_BUCKETS[0]) {
        const base = m.agg === 'hist' || m.agg === 'lhist' ? 8 : 0;
        const nominalOff = l.offsets[last];
        b = { strOff: base + nominalOff, nominalOff, base, size: t.size, sizes: [...STR_BUCKETS.filter((x) => x < t.size), t.size] };
      }
    }
    bucketCache.set(m, b);
  }
  return b ?? undefined;
}

export interface MapPart {
  /** Name the program's relocations use: the map's own for the full-size part. */
  name: string;
  keySize: number;
  /** String size in this part's keys (bucketed maps only). */
  strSize?: number;
}

/** The BPF maps behind one bpftrace map: one, or one per string bucket. */
export function mapParts(m: MapInfo): MapPart[] {
  const b = strBuckets(m);
  if (!b) return [{ name: m.name, keySize: mapKeySize(m) }];
  return b.sizes.map((size, i) => ({
    name: i === b.sizes.length - 1 ? m.name : `${m.name}#${size}`,
    keySize: b.strOff + size,
    strSize: size,
  }));
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
