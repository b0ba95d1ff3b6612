// USDT argument specs: the compiler writes each probe argument's location as
// an AT&T operand prefixed by its size (`-4@%edi`, `8@-16(%rbp)`, `4@$5`),
// because sys/sdt.h lets the compiler pick any register, memory or constant
// operand. This turns them into something codegen can emit loads for.
import { x86Register, type X86Register } from './regs.js';

export { ARG_OFFSETS, ARG_REG_NAMES, argOffset, IP_OFFSET, PT_REGS, REG_NAMES, RETVAL_OFFSET, reg, SP_OFFSET, x86Register } from './regs.js';
export type { X86Register } from './regs.js';

export class UsdtArgError extends Error {
  constructor(
    readonly spec: string,
    why: string,
  ) {
    super(`cannot parse USDT argument '${spec}': ${why}`);
    this.name = 'UsdtArgError';
  }
}

export interface RegRef extends X86Register {
  /** As written, without `%`. */
  name: string;
}

export type UsdtLocation =
  /** The value is in a general register: read pt_regs at `reg.offset`. */
  | { kind: 'register'; reg: RegRef }
  /** A register that pt_regs does not hold (%xmm0...): the argument cannot be read by a uprobe. */
  | { kind: 'unsupported-register'; name: string }
  /** The value is in memory at base + index*scale + disp (+ the address of `symbol`). */
  | { kind: 'memory'; base: RegRef | null; index: RegRef | null; scale: number; disp: bigint; symbol: string | null }
  /**
   * The value is in memory at `symbol` + disp, addressed relative to %rip: a
   * global. The address is the symbol's link-time address plus the load bias.
   */
  | { kind: 'rip'; symbol: string | null; disp: bigint }
  /** An immediate. */
  | { kind: 'constant'; value: bigint };

export interface UsdtArg {
  /** Bytes to read: 1, 2, 4 or 8. */
  size: number;
  signed: boolean;
  /** Floating point (`8f@...`); the size says float or double. */
  float: boolean;
  location: UsdtLocation;
  /** The spec as written. */
  text: string;
}

const NUM = /^[-+]?(0x[0-9a-f]+|\d+)$/i;

function num(s: string, spec: string): bigint {
  if (!NUM.test(s)) throw new UsdtArgError(spec, `'${s}' is not a number`);
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  const v = BigInt(body);
  return neg ? -v : v;
}

function regRef(text: string, spec: string): RegRef | null {
  const t = text.trim();
  if (t === '') return null;
  if (!t.startsWith('%')) throw new UsdtArgError(spec, `'${t}' is not a register`);
  const r = x86Register(t);
  if (!r) throw new UsdtArgError(spec, `unknown register '${t}'`);
  return { ...r, name: t.slice(1) };
}

/** `sym`, `sym+8`, `sym-8`, `16`, `-16`, `0x10` -> symbol and numeric displacement. */
function displacement(text: string, spec: string): { symbol: string | null; disp: bigint } {
  if (text === '') return { symbol: null, disp: 0n };
  if (NUM.test(text)) return { symbol: null, disp: num(text, spec) };
  const m = /^([A-Za-z_.$][\w.$@]*)(?:([-+])(0x[0-9a-f]+|\d+))?$/i.exec(text);
  if (!m) throw new UsdtArgError(spec, `bad displacement '${text}'`);
  const d = m[3] ? BigInt(m[3]) : 0n;
  return { symbol: m[1], disp: m[2] === '-' ? -d : d };
}

function location(op: string, spec: string): UsdtLocation {
  if (op.startsWith('$')) return { kind: 'constant', value: num(op.slice(1), spec) };
  if (op.startsWith('%')) {
    const r = x86Register(op);
    if (!r) {
      if (/^%(x|y|z)mm\d+$|^%st(\(\d\))?$/.test(op)) return { kind: 'unsupported-register', name: op.slice(1) };
      throw new UsdtArgError(spec, `unknown register '${op}'`);
    }
    return { kind: 'register', reg: { ...r, name: op.slice(1) } };
  }
  const paren = op.indexOf('(');
  if (paren < 0) {
    // A bare absolute address or symbol: memory with no registers.
    const { symbol, disp } = displacement(op, spec);
    return { kind: 'memory', base: null, index: null, scale: 1, disp, symbol };
  }
  if (!op.endsWith(')')) throw new UsdtArgError(spec, 'unbalanced parentheses');
  const { symbol, disp } = displacement(op.slice(0, paren), spec);
  const parts = op.slice(paren + 1, -1).split(',');
  if (parts.length > 3) throw new UsdtArgError(spec, 'too many address parts');
  const base = regRef(parts[0], spec);
  const index = parts.length > 1 ? regRef(parts[1], spec) : null;
  let scale = 1;
  if (parts.length > 2 && parts[2].trim() !== '') {
    scale = Number(parts[2].trim());
    if (![1, 2, 4, 8].includes(scale)) throw new UsdtArgError(spec, `bad scale '${parts[2]}'`);
  }
  if (base && base.full === 'rip') {
    if (index) throw new UsdtArgError(spec, '%rip cannot be combined with an index');
    return { kind: 'rip', symbol, disp };
  }
  return { kind: 'memory', base, index, scale, disp, symbol };
}

/** Parses one argument spec, e.g. `-4@%edi`, `8@-16(%rbp)`, `4@$5`, `8@sym(%rip)`, `-8f@%xmm0`. */
export function parseUsdtArg(spec: string): UsdtArg {
  const text = spec.trim();
  const m = /^(-?)(\d+)(f?)@(.+)$/.exec(text);
  if (!m) {
    // Old sdt.h wrote bare operands; the width comes from the register name.
    if (text.startsWith('%')) {
      const loc = location(text, spec);
      const size = loc.kind === 'register' ? loc.reg.size : 8;
      return { size, signed: false, float: false, location: loc, text };
    }
    throw new UsdtArgError(spec, 'expected SIZE@OPERAND');
  }
  const size = Number(m[2]);
  if (![1, 2, 4, 8, 16].includes(size)) throw new UsdtArgError(spec, `bad size ${size}`);
  return { size, signed: m[1] === '-', float: m[3] === 'f', location: location(m[4], spec), text };
}

/**
 * Splits a probe's argument string into specs. Operands never contain spaces
 * except after the commas of an indexed address, which are joined back.
 */
export function parseUsdtArgs(args: string): UsdtArg[] {
  const words = args.trim().split(/\s+/).filter((w) => w !== '');
  const specs: string[] = [];
  for (const w of words) {
    const prev = specs.length ? specs[specs.length - 1] : '';
    if (specs.length && (prev.endsWith(',') || (prev.includes('(') && !prev.includes(')')))) specs[specs.length - 1] += w;
    else specs.push(w);
  }
  return specs.map(parseUsdtArg);
}
