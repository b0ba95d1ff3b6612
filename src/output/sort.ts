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

// Parts compare as bigints or as "byte strings" (one char per byte), where
// JS string order is memcmp order; a shorter string sorts first, as it would
// zero-padded, since kernel strings hold no NULs.
type Part = bigint | string | undefined;

const ASCII = /^[\x00-\x7f]*$/;
function byteString(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(encodeOutput(s)).toString('latin1');
}

function sortPart(v: Value): Part {
  if (v.kind === 'int') return BigInt.asUintN(v.bits, v.value);
  if (v.kind === 'str') return byteString(v.value);
  return undefined;
}

/** Key bytes as stored in the BPF map: integers little-endian, strings NUL-padded. */
function rawPart(v: Value): Part {
  if (v.kind === 'int') {
    let out = '';
    let x = BigInt.asUintN(v.bits, v.value);
    for (let i = 0; i < v.bits / 8; i++, x >>= 8n) out += String.fromCharCode(Number(x & 0xffn));
    return out;
  }
  if (v.kind === 'str') return byteString(v.value);
  return undefined;
}

function compareParts(a: Part[], b: Part[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === undefined || y === undefined || typeof x !== typeof y) continue;
    if (x < y!) return -1;
    if (x > y!) return 1;
  }
  return 0;
}

const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Sorts by a bigint, stably; as plain numbers when they all fit, which is
 * much faster. The numeric path sorts an index array: for 100k-entry maps
 * the per-entry wrapper objects were mostly garbage collector work.
 */
function sortByBig<T>(entries: MapEntry<T>[], keyOf: (e: MapEntry<T>) => bigint): MapEntry<T>[] {
  const n = entries.length;
  const nums = new Float64Array(n);
  let safe = true;
  for (let i = 0; i < n; i++) {
    const k = keyOf(entries[i]);
    if (k > SAFE || k < -SAFE) {
      safe = false;
      break;
    }
    nums[i] = Number(k);
  }
  if (!safe) return sortBy(entries, keyOf, cmpBig);
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => nums[a] - nums[b] || a - b);
  return order.map((i) => entries[i]);
}

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
      return sortByBig(map.entries, (e) => norm(e.value));
    }
    case 'none': {
      if (map.entries.length > 0 && map.entries.every((e) => e.value.kind === 'int')) {
        return sortByBig(map.entries, (e) => (e.value.kind === 'int' ? e.value.value : 0n));
      }
      return byKey(map.entries);
    }
    case 'hist': case 'lhist':
      return sortByBig(byRawKey(map.entries), (e) => e.value.reduce((s, c) => s + c, 0n));
    case 'avg': case 'stats':
      return sortByBig(byRawKey(map.entries), (e) => average(e.value));
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
