// bpftrace 0.17's text output: map printing, hist/lhist tables, print() of
// values, and the runtime's messages.
import { barWidth, histLabel, histRows, lhistLabel, lhistRows } from './hist.js';
import { valueText, type LeafContext } from './scalars.js';
import { average, orderEntries, takeTop } from './sort.js';
import type { MapEntry, MapSnapshot, Symbolizer, Value } from './value.js';

export interface TextOptions { symbolizer?: Symbolizer }

const BAR = 52;

/** One key part as map keys show it; a tuple key (newer bpftrace) shows bare, its items joined by `sep`. */
export function keyPartText(v: Value, ctx: LeafContext, sep = ', '): string {
  return v.kind === 'tuple' ? v.items.map((i) => valueText(i, ctx)).join(sep) : valueText(v, ctx);
}

function keyText(name: string, key: Value[], ctx: LeafContext): string {
  if (key.length === 0) return name;
  // One key part is the common case, and maps can have 100k entries.
  if (key.length === 1) return `${name}[${keyPartText(key[0], ctx)}]`;
  return `${name}[${key.map((k) => keyPartText(k, ctx)).join(', ')}]`;
}

/** Integers (and pointers) inside a map value are divided by print()'s div. */
export function divideValue(v: Value, div: bigint): Value {
  if (div === 1n) return v;
  switch (v.kind) {
    case 'int': return { ...v, value: v.value / div };
    case 'ptr': return { ...v, value: BigInt.asIntN(64, v.value) / div };
    case 'tuple': return { ...v, items: v.items.map((i) => divideValue(i, div)) };
    case 'array': return { ...v, items: v.items.map((i) => divideValue(i, div)) };
    case 'record': return { ...v, fields: v.fields.map((f) => ({ name: f.name, value: divideValue(f.value, div) })) };
    default: return v;
  }
}

/** Value kinds whose text already ends the line (or, for ksym/inet, that 0.17 glues together). */
const NO_DELIMITER = new Set(['stack', 'ksym', 'usym', 'inet']);

/** hist() as the 16/8/52-column table; "" when every bucket is empty. */
export function histText(buckets: bigint[], k: number, div: bigint = 1n): string {
  const rows = histRows(buckets);
  if (!rows) return '';
  let out = '';
  for (let i = rows.first; i <= rows.last; i++) {
    const c = buckets[i] ?? 0n;
    // The count is divided, the bar is not: 0.17 draws it from the raw count.
    out += row(histLabel(i, k), (c / div).toString(), barWidth(c, rows.maxValue));
  }
  return out;
}

export function lhistText(buckets: bigint[], min: number, max: number, step: number): string {
  const rows = lhistRows(buckets, min, max, step);
  if (!rows) return '';
  let out = '';
  for (let i = rows.first; i <= rows.last; i++) {
    const c = buckets[i] ?? 0n;
    out += row(lhistLabel(i, min, max, step), c.toString(), barWidth(c, rows.maxValue));
  }
  return out;
}

function row(label: string, count: string, bar: number): string {
  return `${label.padEnd(16)}${count.padStart(8)} |${'@'.repeat(bar).padEnd(BAR)}|\n`;
}

/**
 * What print(@m, top, div) writes, and what each map prints at exit. Entries
 * are ordered here (see sort.ts); `top` keeps the largest N (ignored by
 * stats), `div` divides counts and values (ignored by stats and lhist).
 */
export function mapText(map: MapSnapshot, top = 0, div = 0, opts: TextOptions = {}): string {
  const d = BigInt(div === 0 ? 1 : div);
  const ordered = orderEntries(map);
  const keyCtx: LeafContext = { inKey: true, symbolizer: opts.symbolizer };
  const key = (e: MapEntry<unknown>) => keyText(map.name, e.key, keyCtx);
  switch (map.kind) {
    case 'count': case 'sum': case 'min': case 'max': {
      const shown = takeTop(ordered as MapEntry<bigint>[], top);
      return shown.map((e) => `${key(e)}: ${d === 1n ? e.value : e.value / d}`).join('\n') + '\n';
    }
    case 'none': {
      const shown = takeTop(ordered as MapEntry<Value>[], top);
      const ctx: LeafContext = { inKey: false, symbolizer: opts.symbolizer };
      const delim = shown.length > 0 && NO_DELIMITER.has(shown[0].value.kind) ? '' : '\n';
      return shown.map((e) => `${key(e)}: ${valueText(divideValue(e.value, d), ctx)}`).join(delim) + '\n';
    }
    case 'hist': {
      const shown = takeTop(ordered as MapEntry<bigint[]>[], top);
      return shown.map((e) => `${key(e)}: \n${histText(e.value, map.k, d)}`).join('\n') + '\n';
    }
    case 'lhist': {
      const shown = takeTop(ordered as MapEntry<bigint[]>[], top);
      return shown.map((e) => `${key(e)}: \n${lhistText(e.value, map.min, map.max, map.step)}`).join('\n') + '\n';
    }
    case 'avg': case 'stats': {
      const all = ordered as MapEntry<{ count: bigint; total: bigint }>[];
      const shown = map.kind === 'avg' ? takeTop(all, top) : all;
      const line = (e: MapEntry<{ count: bigint; total: bigint }>) =>
        map.kind === 'avg'
          ? `${key(e)}: ${average(e.value) / d}`
          : `${key(e)}: count ${e.value.count}, average ${average(e.value)}, total ${e.value.total}`;
      return shown.map(line).join('\n') + '\n\n';
    }
  }
}

/** print(value) of a non-map value. */
export function valueLine(v: Value, opts: TextOptions = {}): string {
  return `${valueText(v, { inKey: false, symbolizer: opts.symbolizer })}\n`;
}

export const attachedProbesText = (n: number) => `Attaching ${n} ${n === 1 ? 'probe' : 'probes'}...\n`;
export const lostEventsText = (n: number | bigint) => `Lost ${n} events\n`;
