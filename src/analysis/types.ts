// The compiler's value types. Every expression gets one in the type pass; the
// code generator reads only these (never re-derives types from the AST), and
// the runtime decodes kernel bytes back into output Values with them.

/** How an integer is shown when printed: plain, or as one of bpftrace's decorated kinds. */
export type IntFmt = 'plain' | 'ksym' | 'usym' | 'kaddr' | 'uaddr' | 'timestamp' | 'errno' | 'bool' | 'cgroup' | 'ptr' | 'username';

export type Ty =
  | { k: 'int'; size: 1 | 2 | 4 | 8; signed: boolean; fmt?: IntFmt; ctype?: CType; /** strftime() format */ strftime?: string }
  | { k: 'str'; size: number }
  | { k: 'buf'; size: number }
  | { k: 'tuple'; elems: Ty[]; offsets: number[]; size: number }
  | { k: 'ptr'; to: CType; size: 8 }
  | { k: 'record'; ctype: CType; size: number }
  | { k: 'array'; elem: Ty; len: number; size: number; ctype?: CType }
  | { k: 'stack'; kernel: boolean; mode: 'bpftrace' | 'perf' | 'raw'; limit: number; size: 16 }
  | { k: 'inet'; size: number }
  | { k: 'macaddr'; size: 6 }
  | { k: 'cgroup_path'; size: 8 }
  | { k: 'usym'; size: 16 }
  | { k: 'ctx'; size: 8 }
  | { k: 'none'; size: 0 };

/**
 * A C type as found in BTF, a tracepoint format or a user's struct definition:
 * enough to compute member offsets and to turn a member read into a typed load.
 */
export interface CType {
  /** Display name, e.g. `struct task_struct`, `int`, `char[16]`. */
  name: string;
  kind: 'int' | 'ptr' | 'struct' | 'union' | 'array' | 'enum' | 'void' | 'func' | 'float';
  size: number;
  signed?: boolean;
  /** ptr: pointee; array: element. */
  target?: () => CType;
  len?: number;
  members?: () => CMember[];
  /** true when memory behind a pointer of this type lives in user space (tracepoint __user, uprobe args). */
  user?: boolean;
}
export interface CMember { name: string; type: CType; offset: number; bitOffset?: number; bitSize?: number }

export const u8: Ty = { k: 'int', size: 1, signed: false };
export const u16: Ty = { k: 'int', size: 2, signed: false };
export const u32: Ty = { k: 'int', size: 4, signed: false };
export const u64: Ty = { k: 'int', size: 8, signed: false };
export const i8: Ty = { k: 'int', size: 1, signed: true };
export const i16: Ty = { k: 'int', size: 2, signed: true };
export const i32: Ty = { k: 'int', size: 4, signed: true };
export const i64: Ty = { k: 'int', size: 8, signed: true };
export const none: Ty = { k: 'none', size: 0 };

export function intTy(size: 1 | 2 | 4 | 8, signed: boolean, fmt?: IntFmt): Ty {
  return fmt ? { k: 'int', size, signed, fmt } : { k: 'int', size, signed };
}
export function strTy(size: number): Ty {
  return { k: 'str', size };
}
export function tupleTy(elems: Ty[]): Ty & { k: 'tuple' } {
  // Elements are 8-byte aligned, as bpftrace lays tuples out, so any element can be read as a u64.
  const offsets: number[] = [];
  let off = 0;
  for (const e of elems) {
    const a = alignOf(e);
    off = Math.ceil(off / a) * a;
    offsets.push(off);
    off += sizeOf(e);
  }
  return { k: 'tuple', elems, offsets, size: Math.ceil(off / 8) * 8 || 8 };
}

export function sizeOf(t: Ty): number {
  return t.size;
}
export function alignOf(t: Ty): number {
  switch (t.k) {
    case 'int':
      return t.size;
    case 'str':
    case 'buf':
    case 'inet':
    case 'macaddr':
      return 1;
    case 'tuple':
      return 8;
    default:
      return 8;
  }
}

export function isInt(t: Ty): t is Ty & { k: 'int' } {
  return t.k === 'int';
}
/** Values that fit a register: integers, pointers and ctx. */
export function isScalar(t: Ty): boolean {
  return t.k === 'int' || t.k === 'ptr' || t.k === 'ctx' || t.k === 'cgroup_path';
}

export function tyEqual(a: Ty, b: Ty): boolean {
  return tyName(a) === tyName(b);
}

/** bpftrace's spelling of a type in diagnostics (`int64`, `string[16]`, `(int64,string[4])`...). */
export function tyName(t: Ty): string {
  switch (t.k) {
    case 'int':
      if (t.fmt === 'ksym') return 'ksym_t';
      if (t.fmt === 'usym') return 'usym_t';
      if (t.fmt === 'timestamp') return 'timestamp';
      return `${t.signed ? '' : 'unsigned '}int${t.size * 8}`;
    case 'str':
      return `string[${t.size}]`;
    case 'buf':
      return `buffer[${t.size}]`;
    case 'tuple':
      return `(${t.elems.map(tyName).join(',')})`;
    case 'ptr':
      return `${t.to.name} *`;
    case 'record':
      return t.ctype.name;
    case 'array':
      return `${tyName(t.elem)}[${t.len}]`;
    case 'stack':
      return t.kernel ? 'kstack' : 'ustack';
    case 'inet':
      return `inet[${t.size}]`;
    case 'macaddr':
      return 'macaddr';
    case 'cgroup_path':
      return 'cgroup_path_t';
    case 'usym':
      return 'usym_t';
    case 'ctx':
      return 'ctx';
    case 'none':
      return 'none';
  }
}

/**
 * bpftrace's name for the kind of a value, as its "(string provided)" and
 * printf "(integer supplied)" messages name it: no sizes.
 */
export function kindName(t: Ty): string {
  switch (t.k) {
    case 'int':
      if (t.fmt === 'ksym' || t.fmt === 'usym' || t.fmt === 'timestamp' || t.fmt === 'username') return t.fmt;
      if (t.fmt === 'errno') return 'strerror';
      return 'integer';
    case 'ptr':
      return 'pointer';
    case 'ctx':
      return 'integer';
    case 'str':
      return 'string';
    case 'buf':
      return 'buffer';
    case 'stack':
      return t.kernel ? 'kstack' : 'ustack';
    case 'macaddr':
      return 'mac_address';
    default:
      return t.k;
  }
}

/** Widens two integer types the way bpftrace's arithmetic does: 64-bit, signed only if both are. */
export function arithResult(a: Ty, b: Ty): Ty {
  const signed = a.k === 'int' && a.signed && b.k === 'int' && b.signed;
  return signed ? i64 : u64;
}

/** The type a C integer of `size` bytes and signedness maps to. */
export function ctypeToTy(c: CType, maxStr: number): Ty {
  switch (c.kind) {
    case 'int':
    case 'enum':
      return intTy(clampSize(c.size), c.signed ?? false);
    case 'ptr':
      return { k: 'ptr', to: c.target ? c.target() : voidC, size: 8 };
    case 'array': {
      const el = c.target ? c.target() : voidC;
      if (el.kind === 'int' && el.size === 1) return strTy(c.len ?? 0);
      const elTy = ctypeToTy(el, maxStr);
      return { k: 'array', elem: elTy, len: c.len ?? 0, size: c.size, ctype: c };
    }
    case 'struct':
    case 'union':
      return { k: 'record', ctype: c, size: c.size };
    default:
      return u64;
  }
}

function clampSize(n: number): 1 | 2 | 4 | 8 {
  return n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : 8;
}

export const voidC: CType = { name: 'void', kind: 'void', size: 0 };
