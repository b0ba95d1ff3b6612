// `args` of a uprobe: the function's parameters from the binary's DWARF,
// each read from the register the System V x86-64 ABI passes it in, as
// bpftrace 0.17 does with libdw. Parameters the registers do not hold
// (floating point, structs and unions by value, anything past the sixth
// integer register) are listed with the reason they cannot be read, which
// is reported when a program uses them.
import type { Elf } from '../symbols/elf.js';
import { DW_ATE, DW_AT, DW_TAG, dwarfOf, functionParams, type Die, type Dwarf } from '../symbols/dwarf.js';
import { ARG_OFFSETS } from '../symbols/regs.js';
import { ctypeToTy, type CMember, type CType } from '../analysis/types.js';
import type { ArgsField, CtxRead } from './provider.js';

const voidUser: CType = { name: 'void', kind: 'void', size: 0, user: true };

/** CTypes built from one file's DWARF, by DIE offset. */
const cache = new WeakMap<Dwarf, Map<number, CType>>();

/**
 * The CType of a DWARF type. Everything is marked as user memory: a
 * uprobe's pointers point into the traced process.
 */
export function dwarfCType(d: Dwarf, t: Die | null, depth = 0): CType {
  if (!t || depth > 48) return voidUser;
  let m = cache.get(d);
  if (!m) cache.set(d, (m = new Map()));
  const hit = m.get(t.offset);
  if (hit) return hit;
  const c = build(d, t, depth);
  m.set(t.offset, c);
  return c;
}

function build(d: Dwarf, t: Die, depth: number): CType {
  const size = d.byteSize(t) ?? 0;
  const name = d.name(t);
  switch (t.tag) {
    case DW_TAG.typedef:
    case DW_TAG.const_type:
    case DW_TAG.volatile_type:
    case DW_TAG.restrict_type:
    case DW_TAG.atomic_type:
    case DW_TAG.immutable_type:
    case DW_TAG.packed_type:
    case DW_TAG.shared_type:
      return dwarfCType(d, d.typeOf(t), depth + 1);
    case DW_TAG.base_type: {
      const enc = d.num(t, DW_AT.encoding) ?? 0;
      if (enc === DW_ATE.float || enc === DW_ATE.complex_float || enc === 0x9 /* imaginary_float */ || enc === 0xf /* decimal_float */) {
        return { name: name ?? 'float', kind: 'float', size, user: true };
      }
      const signed = enc === DW_ATE.signed || enc === DW_ATE.signed_char;
      return { name: name ?? 'int', kind: 'int', size, signed, user: true };
    }
    case DW_TAG.enumeration_type:
      // bpftrace 0.17 reads enums as unsigned integers of their size.
      return { name: `enum ${name ?? '<anonymous>'}`, kind: 'enum', size: size || 4, signed: false, user: true };
    case DW_TAG.pointer_type:
    case DW_TAG.reference_type:
    case DW_TAG.rvalue_reference_type: {
      const to = d.typeOf(t);
      const c: CType = { name: '', kind: 'ptr', size: 8, target: () => safe(() => dwarfCType(d, to, depth + 1), voidUser), user: true };
      Object.defineProperty(c, 'name', { get: () => `${c.target!().name} *`, enumerable: true });
      return c;
    }
    case DW_TAG.structure_type:
    case DW_TAG.class_type:
    case DW_TAG.union_type: {
      const kind = t.tag === DW_TAG.union_type ? 'union' : 'struct';
      let members: CMember[] | undefined;
      return {
        name: `${kind} ${name ?? '<anonymous>'}`,
        kind,
        size,
        user: true,
        members: () => (members ??= safe(() => membersOf(d, t, depth), [])),
      };
    }
    case DW_TAG.array_type: {
      const el = dwarfCType(d, d.typeOf(t), depth + 1);
      const dims = d.children(t).filter((c) => c.tag === DW_TAG.subrange_type).map((s) => d.subrangeCount(s));
      if (dims.length === 0) dims.push(0);
      // int a[2][3]: an array of 2 arrays of 3.
      let c = el;
      for (let i = dims.length - 1; i >= 0; i--) {
        const inner = c;
        c = { name: `${inner.name}[${dims[i]}]`, kind: 'array', size: inner.size * dims[i], len: dims[i], target: () => inner, user: true };
      }
      return c;
    }
    case DW_TAG.subroutine_type:
      return { name: 'func', kind: 'func', size: 8, user: true };
    default:
      return voidUser;
  }
}

/** Types are decoded as the type pass asks; a broken DIE reads as nothing rather than throwing there. */
function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** Members, with those of anonymous inner structs and unions flattened in. Bitfields are read through their aligned word. */
function membersOf(d: Dwarf, t: Die, depth: number): CMember[] {
  const out: CMember[] = [];
  const walk = (s: Die, baseBits: number, level: number): void => {
    if (level > 16) return;
    for (const m of d.children(s)) {
      if (m.tag !== DW_TAG.member) continue;
      const mt = d.typeOf(m);
      const byteOff = d.memberOffset(m) ?? 0;
      const bitSize = d.num(m, DW_AT.bit_size);
      let bits = baseBits + byteOff * 8;
      const dbo = d.num(m, DW_AT.data_bit_offset);
      if (dbo !== undefined) bits = baseBits + dbo;
      else if (bitSize !== undefined && d.num(m, DW_AT.bit_offset) !== undefined) {
        // DWARF 2/3: bit_offset counts from the most significant bit of a byte_size storage unit.
        const storage = d.num(m, DW_AT.byte_size) ?? (mt ? d.byteSize(d.peel(mt) ?? mt) : undefined) ?? 4;
        bits = baseBits + byteOff * 8 + storage * 8 - d.num(m, DW_AT.bit_offset)! - bitSize;
      }
      const name = d.name(m);
      const peeled = d.peel(mt);
      if (!name && peeled && (peeled.tag === DW_TAG.structure_type || peeled.tag === DW_TAG.union_type)) {
        walk(peeled, bits, level + 1);
        continue;
      }
      if (!name) continue;
      const type = dwarfCType(d, mt, depth + 1);
      if (bitSize !== undefined) {
        const wordBits = Math.max(1, type.size) * 8;
        const start = Math.floor(bits / wordBits) * wordBits;
        out.push({ name, type, offset: start / 8, bitOffset: bits - start, bitSize });
      } else out.push({ name, type, offset: Math.floor(bits / 8) });
    }
  };
  walk(t, 0, 0);
  return out;
}

// ---------------------------------------------------------------- the ABI

type ArgClass =
  /** In `regs` consecutive integer registers. */
  | { k: 'int'; regs: number }
  /** In SSE registers (float, double, complex float/double, all-float small structs): no integer register used. */
  | { k: 'sse' }
  /** In memory (long double, big or unaligned aggregates). */
  | { k: 'memory' }
  /** A small aggregate: integer registers for its INTEGER eightbytes, SSE for the others. */
  | { k: 'agg'; regs: number };

/** Every scalar leaf of `c` with its byte offset, for eightbyte classification. */
function leaves(c: CType, base: number, out: { off: number; size: number; float: boolean }[], depth = 0): void {
  if (depth > 16) return;
  if (c.kind === 'struct' || c.kind === 'union') {
    for (const m of c.members?.() ?? []) leaves(m.type, base + m.offset, out, depth + 1);
    return;
  }
  if (c.kind === 'array') {
    const el = c.target?.();
    if (!el || el.size === 0) return;
    for (let i = 0; i < (c.len ?? 0) && i < 64; i++) leaves(el, base + i * el.size, out, depth + 1);
    return;
  }
  out.push({ off: base, size: c.size, float: c.kind === 'float' });
}

function classify(c: CType): ArgClass {
  switch (c.kind) {
    case 'int':
    case 'enum':
      return { k: 'int', regs: c.size > 8 ? 2 : 1 };
    case 'ptr':
    case 'func':
      return { k: 'int', regs: 1 };
    case 'float':
      // long double (x87) and complex long double go in memory.
      return c.size > 16 || (c.size === 16 && !/complex/.test(c.name)) || c.size === 32 ? { k: 'memory' } : { k: 'sse' };
    case 'struct':
    case 'union':
    case 'array': {
      if (c.size === 0 || c.size > 16) return { k: 'memory' };
      const ls: { off: number; size: number; float: boolean }[] = [];
      leaves(c, 0, ls);
      const words = Math.ceil(c.size / 8);
      const isInt = new Array<boolean>(words).fill(false);
      for (const l of ls) {
        if (l.off % Math.max(1, Math.min(l.size, 8)) !== 0) return { k: 'memory' }; // unaligned (packed)
        if (l.float && l.size > 8) return { k: 'memory' };
        if (!l.float) isInt[Math.floor(l.off / 8)] = true;
      }
      return { k: 'agg', regs: isInt.filter(Boolean).length };
    }
    default:
      return { k: 'int', regs: 1 };
  }
}

// ---------------------------------------------------------------- args

export interface UprobeArgs {
  /** The parameters, or undefined when the binary has no DWARF. */
  fields?: ArgsField[];
  /** Why there are no fields. */
  error?: string;
}

function regRead(reg: number, c: CType): CtxRead {
  const scalar = c.kind === 'int' || c.kind === 'enum';
  const size = scalar && (c.size === 1 || c.size === 2 || c.size === 4) ? c.size : 8;
  return { kind: 'ctx', off: ARG_OFFSETS[reg], size, signed: scalar && !!c.signed };
}

/**
 * The `args` of a uprobe on `func` in `elf` (at symbol address `addr`, to
 * find its unit fast). `shown` names the binary in the error bpftrace
 * prints when it has no DWARF. A function DWARF does not know gets no
 * fields, as in bpftrace.
 */
export function uprobeArgs(elf: Elf, func: string, addr: number | undefined, shown: string): UprobeArgs {
  let d: Dwarf | null;
  try {
    d = dwarfOf(elf);
  } catch (e) {
    return { error: `Cannot read debuginfo of ${shown}: ${(e as Error).message}` };
  }
  if (!d) return { error: `No debuginfo found for ${shown}` };
  const fields: ArgsField[] = [];
  try {
    const params = functionParams(d, func, addr);
    let reg = 0;
    for (const p of params ?? []) {
      const ctype = dwarfCType(d, p.type);
      const cls = classify(ctype);
      const field: ArgsField = {
        name: p.name,
        ty: ctypeToTy(ctype, 64),
        ctype,
        read: { kind: 'ctx', off: 0, size: 8, signed: false },
        user: true,
      };
      if (ctype.kind === 'float' || cls.k === 'sse') {
        // bpftrace 0.17's words for a parameter it cannot type.
        field.error = `${p.name} has unsupported type`;
      } else if (cls.k === 'memory' || cls.k === 'agg') {
        const regs = cls.k === 'agg' ? cls.regs : 0;
        if (cls.k === 'agg' && reg + regs <= ARG_OFFSETS.length) reg += regs;
        field.error = `${p.name} has unsupported type: ${ctype.name} is passed by value (args can read integer and pointer parameters)`;
      } else if (reg + cls.regs > ARG_OFFSETS.length) {
        reg = ARG_OFFSETS.length;
        field.error = `'args' builtin is not supported for probes with stack-passed arguments (${p.name} is passed on the stack)`;
      } else if (cls.regs > 1) {
        reg += cls.regs;
        field.error = `${p.name} has unsupported type: ${ctype.name} takes two registers`;
      } else {
        field.read = regRead(reg, ctype);
        reg++;
      }
      if (p.name) fields.push(field);
    }
  } catch (e) {
    return { error: `Cannot read debuginfo of ${shown}: ${(e as Error).message}` };
  }
  return { fields };
}
