// Compile-time check of printf-style formats against argument types, so a
// mismatch is a diagnostic rather than garbage at run time.
import { tyName, type Ty } from '../analysis/types.js';

const CONV = /%(%|[-+ #0]*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|z|j|t)?([diouxXcspfFeEgGaAr])(x|h)?)/g;

export interface Conversion {
  conv: string;
  text: string;
}

export function conversions(fmt: string): Conversion[] {
  const out: Conversion[] = [];
  for (const m of fmt.matchAll(CONV)) {
    if (m[1] === '%') continue;
    out.push({ conv: m[6], text: m[0] });
  }
  return out;
}

/** Returns bpftrace's diagnostic text for a bad call, or undefined when the arguments fit the format. */
export function checkPrintfArgs(fn: string, fmt: string, args: Ty[]): string | undefined {
  const convs = conversions(fmt);
  if (convs.length < args.length) return `${fn}: Too many arguments for format string (${args.length} supplied, ${convs.length} expected)`;
  if (convs.length > args.length) return `${fn}: Not enough arguments for format string (${args.length} supplied, ${convs.length} expected)`;
  for (let i = 0; i < convs.length; i++) {
    const c = convs[i].conv;
    const t = args[i];
    const intLike = t.k === 'int' || t.k === 'ptr' || t.k === 'ctx';
    if ('diouxXcp'.includes(c) && !intLike && t.k !== 'stack')
      return `${fn}: %${c} specifier expects a value of type integer (${tyName(t)} supplied)`;
    if (c === 'r' && t.k !== 'buf' && t.k !== 'str') return `${fn}: %r specifier expects a value of type buffer (${tyName(t)} supplied)`;
    if ('fFeEgGaA'.includes(c)) return `${fn}: %${c} is not supported`;
  }
  return undefined;
}
