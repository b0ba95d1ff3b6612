// Bucket arithmetic for hist() and lhist(), shared by the text and JSON
// renderers: which buckets are shown, their labels and ranges, and the bars.

/** bpftrace reads counts into a C int while scanning; huge counts wrap like it. */
const asInt = (v: bigint | undefined) => Number(BigInt.asIntN(32, v ?? 0n));

export interface Rows { first: number; last: number; maxValue: number }

/** hist: from the first to the last non-empty bucket; undefined when all are empty. */
export function histRows(buckets: bigint[]): Rows | undefined {
  let first = -1, last = -1, maxValue = 0;
  buckets.forEach((b, i) => {
    const v = asInt(b);
    if (v > 0) {
      if (first < 0) first = i;
      last = i;
    }
    if (v > maxValue) maxValue = v;
  });
  return last < 0 ? undefined : { first, last, maxValue };
}

/** Number of in-range lhist buckets (C int division). */
export const lhistSteps = (min: number, max: number, step: number) => Math.trunc((max - min) / step);

/** lhist: like histRows but over the below/in-range/above buckets only. */
export function lhistRows(buckets: bigint[], min: number, max: number, step: number): Rows | undefined {
  let any = false, maxValue = 0;
  for (const b of buckets) {
    const v = asInt(b);
    if (v !== 0) any = true;
    if (v > maxValue) maxValue = v;
  }
  if (!any) return undefined;
  const n = lhistSteps(min, max, step);
  let first = -1, last = 0;
  for (let i = 0; i <= n + 1; i++) {
    if ((buckets[i] ?? 0n) > 0n) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return { first: first < 0 ? 0 : first, last, maxValue };
}

/** The @ bar: 52 wide at the largest bucket, in single-precision float like bpftrace. */
export function barWidth(count: bigint, maxValue: number): number {
  const f = Math.fround;
  return Math.trunc(f(f(f(Number(count)) / f(maxValue)) * 52));
}

const SUFFIXES = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** Start of the hist bucket `index` (index >= 2^k): "4", "1K", "3M"... */
function histBoundLabel(index: number, k: number): string {
  const n = 1 << k;
  const interval = index & (n - 1);
  let power = (index >> k) - 1;
  const decade = Math.floor(power / 10);
  power -= 10 * decade;
  return `${(1n << BigInt(power)) * BigInt(n + interval)}${SUFFIXES[decade] ?? ''}`;
}

export function histLabel(i: number, k: number): string {
  if (i === 0) return '(..., 0)';
  if (i <= 2 << k) return `[${i - 1}]`;
  return `[${histBoundLabel(i - 1, k)}, ${histBoundLabel(i, k)})`;
}

/** Value at which hist bucket `index` starts. */
function histBound(index: number, k: number): bigint {
  const n = 1 << k;
  return (1n << BigInt((index >> k) - 1)) * BigInt(n + (index & (n - 1)));
}

/**
 * The inclusive range of hist bucket i for JSON. With `cIntShift`, 0.17's
 * 32-bit shift for k = 0 is reproduced: from 2^31 up it prints wrapped
 * numbers (the [2G, 4G) bucket reads min -2147483648, max 0).
 */
export function histRange(i: number, k: number, cIntShift: boolean): { min?: bigint; max: bigint } {
  if (i === 0) return { max: -1n };
  if (i <= 2 << k) return { min: BigInt(i - 1), max: BigInt(i - 1) };
  if (cIntShift && k === 0) {
    const shl = (p: number) => BigInt.asIntN(32, 1n << BigInt(p & 31));
    return { min: shl(i - 2), max: BigInt.asIntN(32, shl(i - 1) - 1n) };
  }
  return { min: histBound(i - 1, k), max: histBound(i, k) - 1n };
}

/** 0.17 shortens lhist bounds that are whole K or M. */
function lhistBoundLabel(v: number): string {
  if (v === 0) return '0';
  if (v % 1048576 === 0) return `${v / 1048576}M`;
  if (v % 1024 === 0) return `${v / 1024}K`;
  return String(v);
}

export function lhistLabel(i: number, min: number, max: number, step: number): string {
  if (i === 0) return `(..., ${lhistBoundLabel(min)})`;
  if (i === lhistSteps(min, max, step) + 1) return `[${lhistBoundLabel(max)}, ...)`;
  return `[${lhistBoundLabel((i - 1) * step + min)}, ${lhistBoundLabel(i * step + min)})`;
}

export function lhistRange(i: number, min: number, max: number, step: number): { min?: number; max?: number } {
  if (i === 0) return { max: min - 1 };
  if (i === lhistSteps(min, max, step) + 1) return { min: max };
  return { min: (i - 1) * step + min, max: i * step + min - 1 };
}
