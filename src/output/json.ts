// bpftrace 0.17's `-f json`: one object per line, `{"type": ..., "data": ...}`
// with a space after every ":" and "," of the envelope (but none inside
// tuples and arrays). Leaf values print their text form, quoted for the
// string-like kinds.
//
// 0.17 has quirks that make some lines invalid JSON: mac addresses, strerror()
// and strftime() values are not quoted, bytes >= 0x80 are escaped as
// "\uffffffXX", and hist buckets from 2^31 up print wrapped 32-bit bounds.
// They are reproduced by default; `valid: true` fixes them (as later
// bpftrace does for most of them).
import { encodeOutput } from './bytes.js';
import { histRange, histRows, lhistRange, lhistRows } from './hist.js';
import { valueText, type LeafContext } from './scalars.js';
import { average, orderEntries, takeTop } from './sort.js';
import { divideValue, keyPartText } from './text.js';
import type { MapEntry, MapSnapshot, Symbolizer, Value } from './value.js';

export interface JsonOptions {
  symbolizer?: Symbolizer;
  /** Emit valid JSON where 0.17 does not (see above). */
  valid?: boolean;
}

/** bpftrace's json_escape(): ", \, \n, \r, \t and other control bytes. */
export function jsonEscape(s: string, valid = false): string {
  let out = '';
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii && !valid) {
    // 0.17 escapes bytes, and its signed char turns 0xc3 into \uffffffc3.
    for (const b of encodeOutput(s)) out += b >= 0x80 ? `\\uffffff${b.toString(16)}` : escapeChar(b);
    return out;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x80 ? escapeChar(c) : c >= 0xdc80 && c <= 0xdcff ? `\\u${c.toString(16)}` : s[i];
  }
  return out;
}

function escapeChar(c: number): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    default: return c <= 0x1f ? `\\u${c.toString(16).padStart(4, '0')}` : String.fromCharCode(c);
  }
}

const QUOTED = new Set(['str', 'buf', 'stack', 'ksym', 'usym', 'inet', 'username', 'probe', 'cgroup_path']);
const QUOTED_WHEN_VALID = new Set(['mac', 'strerror', 'timestamp']);

/** A value as JSON: tuples and arrays as [a,b], structs as { "a": 1 }. */
export function jsonValue(v: Value, opts: JsonOptions = {}): string {
  const ctx: LeafContext = { inKey: false, symbolizer: opts.symbolizer };
  switch (v.kind) {
    case 'tuple': case 'array': return `[${v.items.map((i) => jsonValue(i, opts)).join(',')}]`;
    case 'record': return `{ ${v.fields.map((f) => `"${f.name}": ${jsonValue(f.value, opts)}`).join(', ')} }`;
    case 'bool': return v.value ? 'true' : 'false';
    default: {
      const text = valueText(v, ctx);
      if (QUOTED.has(v.kind) || (opts.valid && QUOTED_WHEN_VALID.has(v.kind))) return `"${jsonEscape(text, opts.valid)}"`;
      return text;
    }
  }
}

function keyJson(key: Value[], opts: JsonOptions): string {
  const ctx: LeafContext = { inKey: true, symbolizer: opts.symbolizer };
  return `"${jsonEscape(key.map((k) => keyPartText(k, ctx, ',')).join(','), opts.valid)}"`;
}

/** hist buckets as [{"min": a, "max": b, "count": n}, ...]; "[]" when empty. */
export function histJson(buckets: bigint[], k: number, div: bigint = 1n, valid = false): string {
  const rows = histRows(buckets);
  if (!rows) return '[]';
  const out: string[] = [];
  for (let i = rows.first; i <= rows.last; i++) {
    const r = histRange(i, k, !valid);
    const min = r.min === undefined ? '' : `"min": ${r.min}, `;
    out.push(`{${min}"max": ${r.max}, "count": ${(buckets[i] ?? 0n) / div}}`);
  }
  return `[${out.join(', ')}]`;
}

export function lhistJson(buckets: bigint[], min: number, max: number, step: number): string {
  const rows = lhistRows(buckets, min, max, step);
  if (!rows) return '[]';
  const out: string[] = [];
  for (let i = rows.first; i <= rows.last; i++) {
    const r = lhistRange(i, min, max, step);
    const lo = r.min === undefined ? '' : `"min": ${r.min}, `;
    const hi = r.max === undefined ? '' : `"max": ${r.max}, `;
    out.push(`{${lo}${hi}"count": ${buckets[i] ?? 0n}}`);
  }
  return `[${out.join(', ')}]`;
}

/** print(@m, top, div) and the exit-time dump of one map; "" for an empty map. */
export function mapJson(map: MapSnapshot, top = 0, div = 0, opts: JsonOptions = {}): string {
  const d = BigInt(div === 0 ? 1 : div);
  const ordered = orderEntries(map);
  const withKeys = <T>(entries: MapEntry<T>[], f: (v: T) => string): [Value[], string][] =>
    entries.map((e) => [e.key, f(e.value)]);
  const finish = (type: string, elems: [Value[], string][]) => {
    if (elems.length === 0) return '';
    const isKeyed = elems[0][0].length > 0;
    const body = elems.map(([k, v]) => (isKeyed ? `${keyJson(k, opts)}: ${v}` : v)).join(', ');
    return `{"type": "${type}", "data": {"${jsonEscape(map.name, opts.valid)}": ${isKeyed ? `{${body}}` : body}}}\n`;
  };
  switch (map.kind) {
    case 'count': case 'sum': case 'min': case 'max':
      return finish('map', withKeys(takeTop(ordered as MapEntry<bigint>[], top), (v) => String(v / d)));
    case 'none':
      return finish('map', withKeys(takeTop(ordered as MapEntry<Value>[], top), (v) => jsonValue(divideValue(v, d), opts)));
    case 'hist':
      return finish('hist', withKeys(takeTop(ordered as MapEntry<bigint[]>[], top), (v) => histJson(v, map.k, d, opts.valid)));
    case 'lhist':
      return finish('hist', withKeys(takeTop(ordered as MapEntry<bigint[]>[], top), (v) => lhistJson(v, map.min, map.max, map.step)));
    case 'avg': case 'stats': {
      const all = ordered as MapEntry<{ count: bigint; total: bigint }>[];
      if (map.kind === 'avg') return finish('stats', withKeys(takeTop(all, top), (v) => String(average(v) / d)));
      return finish('stats', withKeys(all, (v) => `{"count": ${v.count}, "average": ${average(v)}, "total": ${v.total}}`));
    }
  }
}

/** print(value) of a non-map value. */
export function valueJson(v: Value, opts: JsonOptions = {}): string {
  return `{"type": "value", "data": ${jsonValue(v, opts)}}\n`;
}

/** printf, time, cat, join, syscall (system) lines: the text as a JSON string. */
export function messageJson(type: string, text: string, opts: JsonOptions = {}): string {
  return `{"type": "${type}", "data": "${jsonEscape(text, opts.valid)}"}\n`;
}

export const attachedProbesJson = (n: number) => `{"type": "attached_probes", "data": {"probes": ${n}}}\n`;
export const lostEventsJson = (n: number | bigint) => `{"type": "lost_events", "data": {"events": ${n}}}\n`;
