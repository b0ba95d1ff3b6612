// C types for the type pass, from two sources: struct/union/enum definitions
// written in the program, and the kernel's BTF. Both become CType values whose
// members are computed only when asked, so a program touching one field of
// task_struct decodes only what that path needs.
import { Btf } from '../btf/index.js';
import type { CMember, CType } from './types.js';
import { squeezeSpaces } from '../chars.js';

const PRIM: Record<string, [number, boolean]> = {
  char: [1, true], 'signed char': [1, true], 'unsigned char': [1, false], short: [2, true], 'short int': [2, true],
  'unsigned short': [2, false], 'unsigned short int': [2, false], int: [4, true], 'signed int': [4, true], signed: [4, true],
  unsigned: [4, false], 'unsigned int': [4, false], long: [8, true], 'long int': [8, true], 'unsigned long': [8, false],
  'unsigned long int': [8, false], 'long long': [8, true], 'long long int': [8, true], 'unsigned long long': [8, false],
  'unsigned long long int': [8, false], _Bool: [1, false], bool: [1, false],
  int8_t: [1, true], uint8_t: [1, false], int16_t: [2, true], uint16_t: [2, false], int32_t: [4, true], uint32_t: [4, false],
  int64_t: [8, true], uint64_t: [8, false], u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false],
  s8: [1, true], s16: [2, true], s32: [4, true], s64: [8, true], __u8: [1, false], __u16: [2, false], __u32: [4, false],
  __u64: [8, false], __s8: [1, true], __s16: [2, true], __s32: [4, true], __s64: [8, true], size_t: [8, false],
  ssize_t: [8, true], pid_t: [4, true], uid_t: [4, false], gid_t: [4, false], umode_t: [2, false], loff_t: [8, true],
};

export function primitive(name: string): CType | undefined {
  const p = PRIM[squeezeSpaces(name)];
  if (!p) return undefined;
  return { name, kind: 'int', size: p[0], signed: p[1] };
}

export function pointerTo(t: CType, user = false): CType {
  return { name: `${t.name} *`, kind: 'ptr', size: 8, target: () => t, user };
}

export class CTypes {
  private readonly user = new Map<string, CType>();
  private readonly btfCache = new Map<number, CType>();
  private btf: Btf | null | undefined;

  constructor(definitions: string[] = []) {
    for (const d of definitions) this.define(d);
  }

  private kernel(): Btf | null {
    if (this.btf === undefined) {
      try {
        this.btf = Btf.available() ? Btf.vmlinux() : null;
      } catch {
        this.btf = null;
      }
    }
    return this.btf;
  }

  /** `struct task_struct`, `union x`, `enum y`, a typedef name or a primitive. */
  lookup(name: string, user = false): CType | undefined {
    const n = squeezeSpaces(name);
    const prim = primitive(n);
    if (prim) return prim;
    const u = this.user.get(n) ?? this.user.get(n.replace(/^(struct|union|enum) /, ''));
    if (u) return u;
    const btf = this.kernel();
    if (!btf) return undefined;
    const m = /^(struct|union|enum) (.+)$/.exec(n);
    const id = m ? btf.findByName(m[2], m[1] as 'struct') : btf.findByName(n, 'typedef') ?? btf.findByName(n, 'struct');
    if (id === undefined) return undefined;
    return this.fromBtf(id, user);
  }

  fromBtf(id: number, user = false): CType {
    const btf = this.kernel()!;
    const key = user ? -id - 1 : id;
    const hit = this.btfCache.get(key);
    if (hit) return hit;
    const t = btf.type(btf.resolve(id));
    let c: CType;
    switch (t.kind) {
      case 'int':
        c = { name: t.name, kind: 'int', size: t.size, signed: t.signed };
        break;
      case 'enum':
      case 'enum64':
        c = { name: `enum ${t.name}`, kind: 'enum', size: t.size, signed: t.signed };
        break;
      case 'ptr': {
        const to = t.type;
        c = { name: '', kind: 'ptr', size: 8, target: () => (to === 0 ? voidType : this.fromBtf(to, user)), user };
        Object.defineProperty(c, 'name', { get: () => `${c.target!().name} *`, enumerable: true });
        break;
      }
      case 'array': {
        const el = t.elem;
        const elemT = this.fromBtf(el, user);
        c = { name: `${elemT.name}[${t.nelems}]`, kind: 'array', size: elemT.size * t.nelems, len: t.nelems, target: () => elemT };
        break;
      }
      case 'struct':
      case 'union': {
        const st = t;
        c = {
          name: `${st.kind} ${st.name}`,
          kind: st.kind,
          size: st.size,
          user,
          members: () => this.membersOf(st.id, st.members.map((m) => m.name), user),
        };
        break;
      }
      case 'fwd':
        c = { name: `${t.union ? 'union' : 'struct'} ${t.name}`, kind: t.union ? 'union' : 'struct', size: 0, members: () => [] };
        break;
      case 'func_proto':
        c = { name: 'func', kind: 'func', size: 8 };
        break;
      case 'float':
        c = { name: t.name, kind: 'float', size: t.size };
        break;
      default:
        c = voidType;
    }
    this.btfCache.set(key, c);
    return c;
  }

  /** Members including those of anonymous inner structs/unions, flattened, as bpftrace resolves them. */
  private membersOf(structId: number, _names: string[], user: boolean): CMember[] {
    const btf = this.kernel()!;
    const out: CMember[] = [];
    const walk = (id: number, baseBits: number): void => {
      const t = btf.type(btf.resolve(id));
      if (t.kind !== 'struct' && t.kind !== 'union') return;
      for (const m of t.members) {
        const bits = baseBits + m.bitOffset;
        if (!m.name) {
          walk(m.typeId, bits);
          continue;
        }
        const type = this.fromBtf(m.typeId, user);
        if (m.bitfieldSize) {
          // Bitfields are read through the aligned word that holds them.
          const size = Math.max(1, type.size);
          const wordBits = size * 8;
          const start = Math.floor(bits / wordBits) * wordBits;
          out.push({ name: m.name, type, offset: start / 8, bitOffset: bits - start, bitSize: m.bitfieldSize });
        } else out.push({ name: m.name, type, offset: Math.floor(bits / 8) });
      }
    };
    walk(structId, 0);
    return out;
  }

  // ------------------------------------------------------- user definitions

  /** Parses `struct X { type name; type name[N]; struct Y *p; ... };` (and unions, enums). */
  define(text: string): void {
    const m = /^\s*(struct|union|enum)\s+(\w+)\s*\{([\s\S]*)\}\s*;?\s*$/.exec(text);
    if (!m) return;
    const [, kind, name, body] = m;
    if (kind === 'enum') {
      this.user.set(`enum ${name}`, { name: `enum ${name}`, kind: 'enum', size: 4, signed: false });
      return;
    }
    const fields: { name: string; type: CType; bits?: number }[] = [];
    for (const decl of body.split(';')) {
      const d = decl.trim();
      if (!d) continue;
      const fm = /^(.*?)(\**)\s*(\w+)?\s*(?:\[(\d+)\])?\s*(?::\s*(\d+))?$/.exec(d);
      if (!fm || (!fm[3] && fm[5] === undefined)) continue;
      const base = fm[1].trim();
      let t: CType | undefined = this.lookup(base) ?? primitive(base);
      if (!t && /^(struct|union) /.test(base)) {
        const nm = base;
        t = { name: nm, kind: 'struct', size: 0, members: () => this.lookup(nm)?.members?.() ?? [] };
      }
      if (!t) t = { name: base, kind: 'int', size: 8, signed: false };
      for (let i = 0; i < fm[2].length; i++) t = pointerTo(t);
      if (fm[4]) {
        const el = t;
        t = { name: `${el.name}[${fm[4]}]`, kind: 'array', size: el.size * Number(fm[4]), len: Number(fm[4]), target: () => el };
      }
      fields.push({ name: fm[3] ?? '', type: t, bits: fm[5] === undefined ? undefined : Number(fm[5]) });
    }
    // The System V layout GCC uses: a bitfield goes at the next free bit
    // unless it would straddle a unit of its type's size, then at the next
    // unit; `:0` closes the unit. Offsets are counted in bits.
    const members: CMember[] = [];
    let bit = 0;
    let align = 1;
    let size = 0;
    for (const f of fields) {
      const a = alignOfC(f.type);
      align = Math.max(align, a);
      if (f.bits !== undefined) {
        const unit = Math.max(1, f.type.size) * 8;
        const at = kind === 'union' ? 0 : bit;
        const start = f.bits === 0 || Math.floor(at / unit) !== Math.floor((at + f.bits - 1) / unit) ? Math.ceil(at / unit) * unit : at;
        const word = Math.floor(start / unit) * unit;
        if (f.name && f.bits > 0) members.push({ name: f.name, type: f.type, offset: word / 8, bitOffset: start - word, bitSize: f.bits });
        if (kind === 'union') size = Math.max(size, Math.ceil(f.bits / 8));
        else bit = start + f.bits;
        continue;
      }
      if (kind === 'union') {
        members.push({ name: f.name, type: f.type, offset: 0 });
        size = Math.max(size, f.type.size);
      } else {
        const off = Math.ceil(Math.ceil(bit / 8) / a) * a;
        members.push({ name: f.name, type: f.type, offset: off });
        bit = (off + f.type.size) * 8;
      }
    }
    if (kind === 'struct') size = Math.ceil(bit / 8);
    size = Math.ceil(size / align) * align;
    const ct: CType = { name: `${kind} ${name}`, kind: kind as 'struct', size, members: () => members };
    this.user.set(`${kind} ${name}`, ct);
  }
}

function alignOfC(t: CType): number {
  if (t.kind === 'array') return t.target ? alignOfC(t.target()) : 1;
  if (t.kind === 'struct' || t.kind === 'union') {
    const ms = t.members?.() ?? [];
    return Math.max(1, ...ms.map((m) => alignOfC(m.type)));
  }
  return Math.max(1, Math.min(8, t.size));
}

export const voidType: CType = { name: 'void', kind: 'void', size: 0 };
