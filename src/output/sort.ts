// The order bpftrace 0.17 prints map entries in, and print()'s `top`.
//
// - count/sum/min/max and maps of plain integers: by value, ascending
//   (count compares unsigned, the rest by their sign).
// - hist/lhist: by the sum of all buckets; avg/stats: by the average. Before
//   that sort, entries are in the order of their raw key bytes (a std::map
//   keyed by the little-endian key), which decides ties.
// - everything else: by key; integers compare unsigned (so -1 sorts last),
//   strings bytewise, multi-keys part by part; other key kinds keep the
//   order the runtime read them in.
// Ties in the first group keep the runtime's order (the kernel's iteration
// order, as in bpftrace), so callers should pass entries as read.
import { encodeOutput } from './bytes.js';
import type { MapEntry, MapSnapshot, Value } from './value.js';

type Part = bigint | Uint8Array | undefined;

function sortPart(v: Value): Part {
  if (v.kind === 'int') return BigInt.asUintN(v.bits, v.value);
  if (v.kind === 'str') return encodeOutput(v.value);
  return undefined;
}

/** Key bytes as stored in the BPF map: integers little-endian, strings NUL-padded. */
function rawPart(v: Value): Uint8Array | undefined {
  if (v.kind === 'int') {
    const out = new Uint8Array(v.bits / 8);
    let x = BigInt.asUintN(v.bits, v.value);
    for (let i = 0; i < out.length; i++, x >>= 8n) out[i] = Number(x & 0xffn);
    return out;
  }
  if (v.kind === 'str') return encodeOutput(v.value);
  return undefined;
}

/** memcmp() as if both sides were zero-padded to the same length. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function compareParts(a: Part[], b: Part[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === undefined || y === undefined) continue;
    const d = typeof x === 'bigint' ? (x < (y as bigint) ? -1 : x > (y as bigint) ? 1 : 0) : compareBytes(x, y as Uint8Array);
    if (d !== 0) return d;
  }
  return 0;
}

const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

function sortBy<T, K>(entries: MapEntry<T>[], keyOf: (e: MapEntry<T>) => K, cmp: (a: K, b: K) => number): MapEntry<T>[] {
  const decorated = entries.map((e, i) => ({ e, k: keyOf(e), i }));
  decorated.sort((a, b) => cmp(a.k, b.k) || a.i - b.i);
  return decorated.map((d) => d.e);
}

const byKey = <T>(entries: MapEntry<T>[]) => sortBy(entries, (e) => e.key.map(sortPart), compareParts);
const byRawKey = <T>(entries: MapEntry<T>[]) => sortBy(entries, (e) => e.key.map(rawPart), compareParts);

/** The entries of a map in the order bpftrace prints them. */
export function orderEntries(map: MapSnapshot): MapEntry<unknown>[] {
  switch (map.kind) {
    case 'count': case 'sum': case 'min': case 'max': {
      const norm = (v: bigint) => (map.kind !== 'count' && map.signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
      return sortBy(map.entries, (e) => norm(e.value), cmpBig);
    }
    case 'none': {
      if (map.entries.length > 0 && map.entries.every((e) => e.value.kind === 'int')) {
        return sortBy(map.entries, (e) => (e.value.kind === 'int' ? e.value.value : 0n), cmpBig);
      }
      return byKey(map.entries);
    }
    case 'hist': case 'lhist':
      return sortBy(byRawKey(map.entries), (e) => e.value.reduce((s, c) => s + c, 0n), cmpBig);
    case 'avg': case 'stats':
      return sortBy(byRawKey(map.entries), (e) => average(e.value), cmpBig);
  }
}

/** total / count, truncated toward zero; 0 for no samples. */
export function average(v: { count: bigint; total: bigint }): bigint {
  return v.count === 0n ? 0n : v.total / v.count;
}

/** print(@m, top): the last `top` entries of the ordered list (0 keeps all). */
export function takeTop<T>(entries: T[], top: number): T[] {
  return top > 0 && entries.length > top ? entries.slice(entries.length - top) : entries;
}
