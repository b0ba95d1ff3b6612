// String and buffer functions: str, buf, strlen, strncmp, strcontains, and
// the byte-level helpers bswap, ntop, pton, macaddr.
import { net } from '../lazy.js';
import * as A from '../bpf/asm/index.js';
import type { Call } from '../lang/ast.js';
import { intTy, isInt, kindName, strTy, tyName, u64, type Ty } from '../analysis/types.js';
import type { FnBuiltin, GenCtx } from './registry.js';
import { argCount, intArg } from './args.js';
import { STR_CANON } from '../analysis/resources.js';

const nargs = argCount;

function isPtrLike(t: Ty): boolean {
  return t.k === 'int' || t.k === 'ptr' || t.k === 'ctx';
}

const str: FnBuiltin = {
  names: ['str'],
  type(call, t) {
    nargs(call, t, 1, 2);
    const a = t.typeOf(call.args[0]);
    if (!isPtrLike(a) && a.k !== 'str' && a.k !== 'array')
      t.error(call.loc, `str() expects an integer or a pointer type as first argument (${tyName(a)} provided)`);
    let size = t.opts.maxStrlen;
    if (call.args.length === 2) {
      intArg(call, t, 1);
      const c = t.constValue(call.args[1]);
      if (c !== undefined && c >= 0n && c + 1n < BigInt(size)) size = Number(c) + 1;
    }
    if (a.k === 'str') return strTy(Math.min(a.size, size));
    return strTy(size);
  },
  emit(call, g) {
    const e = g.e;
    const a = g.typeOf(call.args[0]);
    const out = g.typeOf(call) as Ty & { k: 'str' };
    const m = e.scratch(out.size);
    if (a.k === 'str' || a.k === 'array') {
      const src = g.mem(call.args[0]);
      e.copy(m, src, Math.min(a.size, out.size));
      e.storeImm('b', m, out.size - 1, 0);
      return { mem: m };
    }
    const p = g.int(call.args[0]);
    const user = a.k === 'ptr' && !!a.to.user;
    if (call.args.length === 2) {
      // Runtime length: read at most n bytes (clamped to the buffer).
      const n = g.int(call.args[1]);
      const big = e.newLabel('sbig');
      e.zero(m, out.size);
      e.get(n, A.R2);
      e.free(n);
      e.emit(A.alu64Imm('add', A.R2, 1), A.jmpImm('jle', A.R2, out.size, big), A.mov64Imm(A.R2, out.size));
      e.label(big);
      e.emit(A.jmpImm('jeq', A.R2, 0, big + 'z'));
      e.addr(m, A.R1);
      e.get(p, A.R3);
      e.call(user ? 'probe_read_user_str' : 'probe_read_str');
      e.label(big + 'z');
    } else {
      // probe_read_str stops at the NUL and leaves the rest of the buffer as
      // earlier events left it. Strings are kept zero from the NUL to their
      // 64th byte (to the end when longer; see strBuckets): zeroing 64 bytes
      // is a few stores, and only long strings pay for zeroing the whole
      // buffer and reading again.
      const head = Math.min(out.size, STR_CANON);
      e.zero(m, head);
      e.get(p, A.R3);
      g.probeRead(m, out.size, A.R3, user, true);
      if (out.size > head) {
        const fits = e.newLabel('sfit');
        e.load('b', A.R0, m, head - 1);
        e.emit(A.jmpImm('jeq', A.R0, 0, fits));
        e.zero(e.offset(m, head), out.size - head);
        e.get(p, A.R3);
        g.probeRead(m, out.size, A.R3, user, true);
        e.label(fits);
      }
    }
    e.free(p);
    return { mem: m };
  },
};

const buf: FnBuiltin = {
  names: ['buf'],
  type(call, t) {
    nargs(call, t, 1, 2);
    const a = t.typeOf(call.args[0]);
    let size = a.k === 'array' || a.k === 'str' ? a.size : 0;
    if (call.args.length === 2) {
      const c = t.constValue(call.args[1]);
      const lt = t.typeOf(call.args[1]);
      if (!isInt(lt)) t.error(call.loc, `buf() only supports integer arguments (${tyName(lt)} provided)`);
      // A length known only at run time reads up to the string size, as bpftrace does.
      const own = a.k === 'array' || a.k === 'str' ? a.size : Infinity;
      size = Math.min(c === undefined ? t.opts.maxStrlen : Number(c), own);
      if (size < 0) t.error(call.loc, 'buf() length must not be negative');
    } else if (!size) t.error(call.loc, 'buf() needs a length argument when the first argument is a pointer');
    if (size > 1024) size = 1024;
    // Layout: u64 length, then the bytes.
    return { k: 'buf', size: 8 + size };
  },
  emit(call, g) {
    const e = g.e;
    const a = g.typeOf(call.args[0]);
    const t = g.typeOf(call) as Ty & { k: 'buf' };
    const n = t.size - 8;
    const m = e.scratch(t.size);
    const lenArg = call.args[1];
    if (lenArg && g.constValue(lenArg) === undefined) {
      // Runtime length, clamped to the buffer; the tail stays zero so equal buffers compare equal.
      const fromMem = a.k === 'array' || a.k === 'str';
      const src = fromMem ? g.mem(call.args[0]) : undefined;
      const p = fromMem ? undefined : g.int(call.args[0]);
      const len = g.int(lenArg);
      e.zero(e.offset(m, 8), n);
      const ok = e.newLabel('bufn');
      e.get(len, A.R2);
      e.free(len);
      e.emit(A.jmpImm('jle', A.R2, n, ok), A.mov64Imm(A.R2, n));
      e.label(ok);
      e.store('dw', m, 0, A.R2);
      e.addr(e.offset(m, 8), A.R1);
      if (p) {
        e.get(p, A.R3);
        e.free(p);
      } else e.addr(src!, A.R3);
      e.call(a.k === 'ptr' && !!a.to.user ? 'probe_read_user' : 'probe_read');
      return { mem: m };
    }
    e.storeImm('dw', m, 0, n);
    if (a.k === 'array' || a.k === 'str') e.copy(e.offset(m, 8), g.mem(call.args[0]), n);
    else {
      const p = g.int(call.args[0]);
      e.get(p, A.R3);
      e.free(p);
      g.probeRead(e.offset(m, 8), n, A.R3, a.k === 'ptr' && !!a.to.user);
    }
    return { mem: m };
  },
};

const strlen: FnBuiltin = {
  names: ['strlen'],
  type(call, t) {
    nargs(call, t, 1);
    const a = t.typeOf(call.args[0]);
    if (a.k !== 'str') t.error(call.loc, `strlen() expects a string argument (${kindName(a)} provided)`);
    return u64;
  },
  emit(call, g) {
    const e = g.e;
    const a = g.typeOf(call.args[0]);
    const m = g.mem(call.args[0]);
    const out = e.vreg();
    const done = e.newLabel('slen');
    for (let i = 0; i < a.size; i++) {
      e.emit(A.mov64Imm(A.R0, i));
      e.load('b', A.R1, m, i);
      e.emit(A.jmpImm('jeq', A.R1, 0, done));
    }
    e.emit(A.mov64Imm(A.R0, a.size));
    e.label(done);
    e.set(out, A.R0);
    return { reg: out };
  },
};

const strncmp: FnBuiltin = {
  names: ['strncmp'],
  type(call, t) {
    nargs(call, t, 3);
    for (const i of [0, 1]) {
      const a = t.typeOf(call.args[i]);
      if (a.k !== 'str') t.error(call.loc, `strncmp() expects a string as argument ${i + 1} (${tyName(a)} provided)`);
    }
    if (t.literalInt(call.args[2], 'strncmp', call.loc) < 0n) t.error(call.loc, 'strncmp() length must not be negative');
    return u64;
  },
  emit(call, g) {
    // 0 when the first n bytes match (stopping at a common NUL), 1 otherwise, as bpftrace documents.
    const e = g.e;
    const a = g.mem(call.args[0]);
    const b = g.mem(call.args[1]);
    const n = Math.min(Number(g.constValue(call.args[2]) ?? 0n), g.typeOf(call.args[0]).size, g.typeOf(call.args[1]).size);
    const out = e.vreg();
    const ne = e.newLabel('ncne');
    const done = e.newLabel('ncd');
    const eq = e.newLabel('nceq');
    for (let i = 0; i < n; i++) {
      e.load('b', A.R0, a, i);
      e.load('b', A.R1, b, i);
      e.emit(A.jmpReg('jne', A.R0, A.R1, ne), A.jmpImm('jeq', A.R0, 0, eq));
    }
    e.label(eq);
    e.emit(A.mov64Imm(A.R0, 0), A.ja(done));
    e.label(ne);
    e.emit(A.mov64Imm(A.R0, 1));
    e.label(done);
    e.set(out, A.R0);
    return { reg: out };
  },
};

const strcontains: FnBuiltin = {
  names: ['strcontains'],
  type(call, t) {
    nargs(call, t, 2);
    for (const i of [0, 1]) {
      const a = t.typeOf(call.args[i]);
      if (a.k !== 'str') t.error(call.loc, `strcontains() expects a string as argument ${i + 1} (${tyName(a)} provided)`);
    }
    if (call.args[1].kind !== 'Str') t.error(call.loc, 'strcontains() needs a string literal as its second argument');
    return u64;
  },
  emit(call, g) {
    // Needle is a literal: an unrolled match at every start position up to the haystack's size.
    const e = g.e;
    const hay = g.mem(call.args[0]);
    const hsize = g.typeOf(call.args[0]).size;
    const needle = Buffer.from((call.args[1] as { value: string }).value);
    const out = e.vreg();
    const found = e.newLabel('scf');
    const done = e.newLabel('scd');
    const limit = Math.min(hsize, 64);
    if (needle.length === 0) e.emit(A.ja(found));
    for (let s = 0; s + needle.length <= limit && needle.length; s++) {
      const next = e.newLabel('scn');
      e.load('b', A.R0, hay, s);
      e.emit(A.jmpImm('jeq', A.R0, 0, done + 'z'));
      for (let i = 0; i < needle.length; i++) {
        if (i) e.load('b', A.R0, hay, s + i);
        e.emit(A.jmpImm('jne', A.R0, needle[i], next));
      }
      e.emit(A.ja(found));
      e.label(next);
    }
    e.label(done + 'z');
    e.emit(A.mov64Imm(A.R0, 0), A.ja(done));
    e.label(found);
    e.emit(A.mov64Imm(A.R0, 1));
    e.label(done);
    e.set(out, A.R0);
    return { reg: out };
  },
};

const bswap: FnBuiltin = {
  names: ['bswap'],
  type(call, t) {
    nargs(call, t, 1);
    intArg(call, t, 0);
    const a = t.typeOf(call.args[0]) as Ty & { k: 'int' };
    return intTy(a.size as 1 | 2 | 4 | 8, false);
  },
  emit(call, g) {
    const a = g.typeOf(call.args[0]) as Ty & { k: 'int' };
    const v = g.int(call.args[0]);
    g.e.get(v, A.R0);
    if (a.size > 1) g.e.emit(A.endian('be', A.R0, (a.size * 8) as 16 | 32 | 64));
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

/** ntop([af,] addr): an inet value {af u64, 16 address bytes} formatted in user space. */
const ntop: FnBuiltin = {
  names: ['ntop'],
  type(call, t) {
    nargs(call, t, 1, 2);
    const a = t.typeOf(call.args[call.args.length - 1]);
    if (!isInt(a) && a.k !== 'array' && a.k !== 'str') t.error(call.loc, `ntop() expects an integer or array argument (${tyName(a)} provided)`);
    return { k: 'inet', size: 24 };
  },
  emit(call, g) {
    const e = g.e;
    const m = e.scratch(24);
    e.zero(m, 24);
    const addrE = call.args[call.args.length - 1];
    const a = g.typeOf(addrE);
    let af: number | undefined;
    if (call.args.length === 2) {
      const v = g.int(call.args[0]);
      e.get(v, A.R0);
      e.store('dw', m, 0, A.R0);
      e.free(v);
    } else {
      af = a.k === 'int' ? 2 : a.size === 16 ? 10 : 2;
      e.storeImm('dw', m, 0, af);
    }
    if (a.k === 'int') {
      const v = g.int(addrE);
      e.get(v, A.R0);
      e.store('w', m, 8, A.R0);
      e.free(v);
    } else {
      e.copy(e.offset(m, 8), g.mem(addrE), Math.min(16, a.size));
    }
    return { mem: m };
  },
};

/** pton("1.2.3.4") / pton("::1"): the address bytes, parsed when compiling. */
function parseAddr(text: string): number[] | undefined {
  if (net().isIPv4(text)) return text.split('.').map(Number);
  if (!net().isIPv6(text)) return undefined;
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const words = (x: string) => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const hi = words(head);
  const lo = rest === undefined ? [] : words(rest);
  const all = [...hi, ...Array(8 - hi.length - lo.length).fill(0), ...lo];
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (v4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const pton: FnBuiltin = {
  names: ['pton'],
  type(call, t) {
    nargs(call, t, 1);
    const a = call.args[0];
    // "an string" is bpftrace's wording.
    if (a.kind !== 'Str') return t.error(call.loc, 'pton() expects an string argument of an IPv4/IPv6 address, got ');
    const bytes = parseAddr(a.value);
    if (!bytes) return t.error(call.loc, `pton() expects an string argument of an IPv4/IPv6 address, got ${a.value}`);
    return { k: 'array', elem: intTy(1, false), len: bytes.length, size: bytes.length };
  },
  emit(call, g) {
    const bytes = parseAddr((call.args[0] as { value: string }).value)!;
    const m = g.e.scratch(bytes.length);
    bytes.forEach((b, i) => g.e.storeImm('b', m, i, b));
    return { mem: m };
  },
};

const macaddr: FnBuiltin = {
  names: ['macaddr'],
  type(call, t) {
    nargs(call, t, 1);
    const a = t.typeOf(call.args[0]);
    if (a.k !== 'array' && a.k !== 'ptr' && a.k !== 'str' && !isInt(a)) t.error(call.loc, `macaddr() expects an array or pointer argument (${tyName(a)} provided)`);
    if ((a.k === 'array' || a.k === 'str') && a.size < 6) t.error(call.loc, 'macaddr() argument must be at least 6 bytes');
    return { k: 'macaddr', size: 6 };
  },
  emit(call, g) {
    const e = g.e;
    const m = e.scratch(8);
    const a = g.typeOf(call.args[0]);
    if (a.k === 'array' || a.k === 'str') e.copy(m, g.mem(call.args[0]), 6);
    else {
      const p = g.int(call.args[0]);
      e.get(p, A.R3);
      e.free(p);
      g.probeRead(m, 6, A.R3, false);
    }
    return { mem: m };
  },
};

export const stringBuiltins: FnBuiltin[] = [str, buf, strlen, strncmp, strcontains, bswap, ntop, pton, macaddr];

export type { GenCtx };
