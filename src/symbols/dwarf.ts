// A DWARF reader for what uprobe arguments need: functions, their
// parameters and the parameters' types. It reads DWARF 2 to 5 compile units
// of .debug_info (with .debug_abbrev, .debug_str, .debug_line_str and
// .debug_str_offsets), decompressing SHF_COMPRESSED and .zdebug sections.
//
// Nothing is parsed up front. Unit headers are walked (a hop per unit), and
// a unit's DIEs are decoded only when a lookup needs that unit: a function
// whose symbol address .debug_aranges (or, without it, the units' own
// ranges) places in one unit costs that unit alone. A name that unit does
// not define is looked for the way libdw's dwarf_getfuncs does, unit by unit
// in file order, skimming DIEs and indexing every function met, so each unit
// is walked at most once per file. DIEs are kept by offset once decoded, so
// types shared by many parameters are read once.
//
// Not read: supplementary files (.gnu_debugaltlink, dwz; their references
// and strings read as absent), type units (DW_FORM_ref_sig8) and split
// DWARF (.dwo files).
import { zlib } from '../lazy.js';
import type { Elf, SectionHeader } from './elf.js';

// Tags.
export const DW_TAG = {
  array_type: 0x01,
  class_type: 0x02,
  enumeration_type: 0x04,
  formal_parameter: 0x05,
  lexical_block: 0x0b,
  member: 0x0d,
  pointer_type: 0x0f,
  reference_type: 0x10,
  compile_unit: 0x11,
  structure_type: 0x13,
  subroutine_type: 0x15,
  typedef: 0x16,
  union_type: 0x17,
  unspecified_parameters: 0x18,
  inlined_subroutine: 0x1d,
  module: 0x1e,
  subrange_type: 0x21,
  with_stmt: 0x22,
  base_type: 0x24,
  catch_block: 0x25,
  const_type: 0x26,
  entry_point: 0x03,
  subprogram: 0x2e,
  try_block: 0x32,
  volatile_type: 0x35,
  restrict_type: 0x37,
  namespace: 0x39,
  imported_unit: 0x3d,
  partial_unit: 0x3c,
  rvalue_reference_type: 0x42,
  atomic_type: 0x47,
  immutable_type: 0x4b,
  packed_type: 0x2d,
  shared_type: 0x40,
  type_unit: 0x41,
  skeleton_unit: 0x4a,
} as const;

// Attributes.
export const DW_AT = {
  sibling: 0x01,
  name: 0x03,
  byte_size: 0x0b,
  bit_offset: 0x0c,
  bit_size: 0x0d,
  low_pc: 0x11,
  high_pc: 0x12,
  language: 0x13,
  upper_bound: 0x2f,
  abstract_origin: 0x31,
  count: 0x37,
  data_member_location: 0x38,
  declaration: 0x3c,
  encoding: 0x3e,
  specification: 0x47,
  type: 0x49,
  ranges: 0x55,
  data_bit_offset: 0x6b,
  str_offsets_base: 0x72,
  import: 0x18,
} as const;

// Base type encodings.
export const DW_ATE = {
  address: 0x1,
  boolean: 0x2,
  complex_float: 0x3,
  float: 0x4,
  signed: 0x5,
  signed_char: 0x6,
  unsigned: 0x7,
  unsigned_char: 0x8,
  UTF: 0x10,
} as const;

const DW_LANG_C89 = 0x1;
const DW_LANG_C = 0x2;
const DW_LANG_C99 = 0xc;
const DW_LANG_C11 = 0x1d;
const DW_LANG_C17 = 0x2c;

const SHF_COMPRESSED = 0x800;
const ELFCOMPRESS_ZLIB = 1;

export class DwarfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DwarfError';
  }
}

// ------------------------------------------------------------------ bytes

/** A cursor over one section. LEB128s and fixed-size little-endian integers. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new DwarfError(`read past the end of a DWARF section at 0x${this.pos.toString(16)}`);
    return this.buf[this.pos++];
  }
  u16(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }
  uN(n: number): number {
    return n === 8 ? this.u64() : n === 4 ? this.u32() : n === 2 ? this.u16() : n === 1 ? this.u8() : this.u64();
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
  }
  sleb(): number {
    let result = 0;
    let mul = 1;
    let b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }
  cstr(): string {
    let end = this.buf.indexOf(0, this.pos);
    if (end < 0) end = this.buf.length;
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
}

function cstrAt(buf: Buffer, off: number): string | undefined {
  if (off >= buf.length) return undefined;
  let end = buf.indexOf(0, off);
  if (end < 0) end = buf.length;
  return buf.toString('utf8', off, end);
}

// ------------------------------------------------------------------ abbreviations

interface Abbrev {
  tag: number;
  children: boolean;
  /** Attribute specs as triples: attribute, form, DW_FORM_implicit_const's value (else 0). */
  spec: number[];
}

const FORM_INDIRECT = 0x16;
const FORM_IMPLICIT_CONST = 0x21;

/** One unit's abbreviation table, indexed by code (codes are small and dense). */
function parseAbbrevs(buf: Buffer, off: number): Abbrev[] {
  const r = new Reader(buf, off);
  const out: Abbrev[] = [];
  const n = buf.length;
  for (;;) {
    if (r.pos >= n) break;
    const code = r.uleb();
    if (code === 0) break;
    const tag = r.uleb();
    const children = r.u8() !== 0;
    const spec: number[] = [];
    for (;;) {
      // Nearly every attribute and form fits one LEB128 byte.
      let at = buf[r.pos];
      if (at < 0x80) r.pos++;
      else at = r.uleb();
      let form = buf[r.pos];
      if (form < 0x80) r.pos++;
      else form = r.uleb();
      if (at === 0 && form === 0) break;
      spec.push(at, form, form === FORM_IMPLICIT_CONST ? r.sleb() : 0);
    }
    out[code] = { tag, children, spec };
  }
  return out;
}

/** A same-file DIE reference as an absolute .debug_info offset, or -1 for other forms. */
function readRef(r: Reader, form: number, u: { offset: number; offsetSize: number; addrSize: number; version: number }): number {
  switch (form) {
    case 0x11:
      return u.offset + r.u8();
    case 0x12:
      return u.offset + r.u16();
    case 0x13:
      return u.offset + r.u32();
    case 0x14:
      return u.offset + r.u64();
    case 0x15:
      return u.offset + r.uleb();
    case 0x10:
      return r.uN(u.version <= 2 ? u.addrSize : u.offsetSize);
    default:
      skipForm(r, form, u);
      return -1;
  }
}

/** Steps over one attribute value of `form` without decoding it. */
function skipForm(r: Reader, form: number, u: { offsetSize: number; addrSize: number; version: number }): void {
  switch (form) {
    case 0x19: // flag_present
    case FORM_IMPLICIT_CONST:
      return;
    case 0x0b: // data1
    case 0x11: // ref1
    case 0x0c: // flag
    case 0x25: // strx1
    case 0x29: // addrx1
      r.pos += 1;
      return;
    case 0x05: // data2
    case 0x12: // ref2
    case 0x26: // strx2
    case 0x2a: // addrx2
      r.pos += 2;
      return;
    case 0x27: // strx3
    case 0x2b: // addrx3
      r.pos += 3;
      return;
    case 0x06: // data4
    case 0x13: // ref4
    case 0x28: // strx4
    case 0x2c: // addrx4
    case 0x1c: // ref_sup4
      r.pos += 4;
      return;
    case 0x07: // data8
    case 0x14: // ref8
    case 0x20: // ref_sig8
    case 0x24: // ref_sup8
      r.pos += 8;
      return;
    case 0x1e: // data16
      r.pos += 16;
      return;
    case 0x01: // addr
      r.pos += u.addrSize;
      return;
    case 0x0e: // strp
    case 0x17: // sec_offset
    case 0x1f: // line_strp
    case 0x1d: // strp_sup
    case 0x1f20: // GNU_ref_alt
    case 0x1f21: // GNU_strp_alt
      r.pos += u.offsetSize;
      return;
    case 0x10: // ref_addr
      r.pos += u.version <= 2 ? u.addrSize : u.offsetSize;
      return;
    case 0x0d: // sdata
    case 0x0f: // udata
    case 0x15: // ref_udata
    case 0x1a: // strx
    case 0x1b: // addrx
    case 0x22: // loclistx
    case 0x23: // rnglistx
    case 0x1f01:
    case 0x1f02:
      while (r.buf[r.pos++] & 0x80);
      return;
    case 0x08: {
      // string
      const end = r.buf.indexOf(0, r.pos);
      r.pos = end < 0 ? r.buf.length : end + 1;
      return;
    }
    case 0x0a: // block1
      r.pos += 1 + r.buf[r.pos];
      return;
    case 0x03: // block2
      r.pos += 2 + r.buf.readUInt16LE(r.pos);
      return;
    case 0x04: // block4
      r.pos += 4 + r.buf.readUInt32LE(r.pos);
      return;
    case 0x09: // block
    case 0x18: {
      // exprloc
      const n = r.uleb();
      r.pos += n;
      return;
    }
    case FORM_INDIRECT:
      skipForm(r, r.uleb(), u);
      return;
    default:
      throw new DwarfError(`unknown DWARF form 0x${form.toString(16)}`);
  }
}

// ------------------------------------------------------------------ DIEs and units

/** An attribute value: a number (constants, offsets, addresses, flags), a string, or a reference. */
export type AttrValue =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  /** DW_FORM_strp/line_strp/strx*: resolved against the unit when asked. */
  | { k: 'strref'; section: 'str' | 'line_str' | 'strx' | 'alt'; v: number }
  /** A DIE reference, as an absolute .debug_info offset (or in the supplementary file: unusable). */
  | { k: 'ref'; v: number; alt?: boolean }
  | { k: 'block'; v: Buffer }
  | { k: 'flag'; v: boolean }
  | { k: 'none' };

export interface Die {
  /** Offset in .debug_info. */
  offset: number;
  tag: number;
  hasChildren: boolean;
  attrs: Map<number, AttrValue>;
  unit: Unit;
  /** Offset just past this DIE's attributes (its first child, or its next sibling when it has none). */
  next: number;
}

export class Unit {
  abbrevs!: Abbrev[];
  /** Offset of the root DIE. */
  dieStart = 0;
  strOffsetsBase?: number;
  private rootCache?: Die;
  constructor(
    readonly dwarf: Dwarf,
    readonly offset: number,
    /** Offset just past the unit. */
    readonly end: number,
    readonly version: number,
    readonly offsetSize: 4 | 8,
    readonly addrSize: number,
    readonly abbrevOffset: number,
    readonly unitType: number,
  ) {}

  root(): Die {
    if (this.rootCache) return this.rootCache;
    const d = this.dwarf.dieAt(this.dieStart, this);
    if (!d) throw new DwarfError(`empty unit at 0x${this.offset.toString(16)}`);
    const base = d.attrs.get(DW_AT.str_offsets_base);
    if (base && base.k === 'num') this.strOffsetsBase = base.v;
    return (this.rootCache = d);
  }

  /** The unit's source language (DW_LANG_*), or 0. */
  get language(): number {
    const l = this.root().attrs.get(DW_AT.language);
    return l && l.k === 'num' ? l.v : 0;
  }

  get isC(): boolean {
    const l = this.language;
    return l === DW_LANG_C89 || l === DW_LANG_C || l === DW_LANG_C99 || l === DW_LANG_C11 || l === DW_LANG_C17;
  }
}

// ------------------------------------------------------------------ the file

/** Where a section's bytes are: decompressed when the section is compressed. */
export function sectionBytes(elf: Elf, s: SectionHeader): Buffer {
  const raw = elf.data(s);
  if (s.flags & SHF_COMPRESSED) {
    if (raw.length < 24) throw new DwarfError(`${s.name}: truncated compression header`);
    const type = raw.readUInt32LE(0);
    if (type !== ELFCOMPRESS_ZLIB) throw new DwarfError(`${s.name}: unsupported compression type ${type}`);
    return zlib().inflateSync(raw.subarray(24));
  }
  if (s.name.startsWith('.zdebug') && raw.length >= 12 && raw.toString('latin1', 0, 4) === 'ZLIB') {
    return zlib().inflateSync(raw.subarray(12));
  }
  return raw;
}

export interface ArangeEntry {
  lo: number;
  hi: number;
  /** .debug_info offset of the unit. */
  unit: number;
}

/** One ELF file's DWARF. Get it with `dwarfOf(elf)`. */
export class Dwarf {
  private readonly sections = new Map<string, Buffer | null>();
  private unitsCache?: Unit[];
  private readonly abbrevCache = new Map<number, Abbrev[]>();
  private readonly dies = new Map<number, Die>();
  private arangesCache?: ArangeEntry[];
  /** Function DIEs by name, for units already walked (first one in walking order). */
  private readonly funcIndex = new Map<string, number>();
  private readonly walked = new Set<Unit>();
  /** Counters for measurements and tests: units and DIEs decoded so far. */
  readonly stats = { unitsWalked: 0, diesDecoded: 0 };

  constructor(readonly elf: Elf) {}

  /** The (decompressed) bytes of `name` (`.debug_info`...), or null when the file lacks it. */
  section(name: string): Buffer | null {
    if (this.sections.has(name)) return this.sections.get(name)!;
    const s = this.elf.section(name) ?? this.elf.section(name.replace(/^\.debug_/, '.zdebug_'));
    const b = s && s.type !== 8 ? sectionBytes(this.elf, s) : null;
    this.sections.set(name, b);
    return b;
  }

  get hasInfo(): boolean {
    const s = this.elf.section('.debug_info') ?? this.elf.section('.zdebug_info');
    return !!s && s.type !== 8 && s.size > 0;
  }

  private info(): Buffer {
    const b = this.section('.debug_info');
    if (!b) throw new DwarfError(`${this.elf.path} has no .debug_info`);
    return b;
  }

  /** Unit headers, in file order. Reading them touches a few bytes per unit. */
  units(): Unit[] {
    if (this.unitsCache) return this.unitsCache;
    const buf = this.info();
    const out: Unit[] = [];
    let off = 0;
    while (off + 11 <= buf.length) {
      const r = new Reader(buf, off);
      let len = r.u32();
      let offsetSize: 4 | 8 = 4;
      if (len === 0xffffffff) {
        len = r.u64();
        offsetSize = 8;
      } else if (len >= 0xfffffff0) break;
      const end = r.pos + len;
      if (len === 0 || end > buf.length) break;
      const version = r.u16();
      let unitType = 1; // DW_UT_compile
      let addrSize: number;
      let abbrevOffset: number;
      if (version >= 5) {
        unitType = r.u8();
        addrSize = r.u8();
        abbrevOffset = r.uN(offsetSize);
        if (unitType === 4 || unitType === 5) r.pos += 8; // skeleton/split_compile: dwo_id
        else if (unitType === 2 || unitType === 6) r.pos += 8 + offsetSize; // type units
      } else {
        abbrevOffset = r.uN(offsetSize);
        addrSize = r.u8();
      }
      if (version >= 2 && version <= 5) {
        const u = new Unit(this, off, end, version, offsetSize, addrSize, abbrevOffset, unitType);
        u.dieStart = r.pos;
        out.push(u);
      }
      off = end;
    }
    return (this.unitsCache = out);
  }

  /** The unit holding .debug_info offset `off`. */
  unitAt(off: number): Unit | undefined {
    const us = this.units();
    let lo = 0;
    let hi = us.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (us[mid].end <= off) lo = mid + 1;
      else if (us[mid].offset > off) hi = mid - 1;
      else return us[mid];
    }
    return undefined;
  }

  private abbrevsAt(off: number): Abbrev[] {
    let a = this.abbrevCache.get(off);
    if (!a) {
      const buf = this.section('.debug_abbrev');
      if (!buf) throw new DwarfError(`${this.elf.path} has no .debug_abbrev`);
      a = parseAbbrevs(buf, off);
      this.abbrevCache.set(off, a);
    }
    return a;
  }

  /** The DIE at `off`, or null for the null entry that ends a list of children. */
  dieAt(off: number, unit?: Unit): Die | null {
    const hit = this.dies.get(off);
    if (hit) return hit;
    const u = unit ?? this.unitAt(off);
    if (!u) throw new DwarfError(`no unit holds DIE offset 0x${off.toString(16)}`);
    if (!u.abbrevs) u.abbrevs = this.abbrevsAt(u.abbrevOffset);
    const buf = this.info();
    const r = new Reader(buf, off);
    const code = r.uleb();
    if (code === 0) return null;
    const ab = u.abbrevs[code];
    if (!ab) throw new DwarfError(`DIE at 0x${off.toString(16)} uses unknown abbreviation ${code}`);
    const attrs = new Map<number, AttrValue>();
    const spec = ab.spec;
    for (let i = 0; i < spec.length; i += 3) {
      const v = this.readForm(r, spec[i + 1], u, spec[i + 2]);
      if (!attrs.has(spec[i])) attrs.set(spec[i], v);
    }
    const die: Die = { offset: off, tag: ab.tag, hasChildren: ab.children, attrs, unit: u, next: r.pos };
    this.dies.set(off, die);
    this.stats.diesDecoded++;
    return die;
  }

  private readForm(r: Reader, form: number, u: Unit, implicit?: number): AttrValue {
    const os = u.offsetSize;
    switch (form) {
      case 0x01: // addr
        return { k: 'num', v: r.uN(u.addrSize) };
      case 0x03: // block2
        return this.block(r, r.u16());
      case 0x04: // block4
        return this.block(r, r.u32());
      case 0x05: // data2
        return { k: 'num', v: r.u16() };
      case 0x06: // data4
        return { k: 'num', v: r.u32() };
      case 0x07: // data8
        return { k: 'num', v: r.u64() };
      case 0x08: // string
        return { k: 'str', v: r.cstr() };
      case 0x09: // block
      case 0x18: // exprloc
        return this.block(r, r.uleb());
      case 0x0a: // block1
        return this.block(r, r.u8());
      case 0x0b: // data1
        return { k: 'num', v: r.u8() };
      case 0x0c: // flag
        return { k: 'flag', v: r.u8() !== 0 };
      case 0x0d: // sdata
        return { k: 'num', v: r.sleb() };
      case 0x0e: // strp
        return { k: 'strref', section: 'str', v: r.uN(os) };
      case 0x0f: // udata
        return { k: 'num', v: r.uleb() };
      case 0x10: // ref_addr
        return { k: 'ref', v: r.uN(u.version <= 2 ? u.addrSize : os) };
      case 0x11: // ref1
        return { k: 'ref', v: u.offset + r.u8() };
      case 0x12: // ref2
        return { k: 'ref', v: u.offset + r.u16() };
      case 0x13: // ref4
        return { k: 'ref', v: u.offset + r.u32() };
      case 0x14: // ref8
        return { k: 'ref', v: u.offset + r.u64() };
      case 0x15: // ref_udata
        return { k: 'ref', v: u.offset + r.uleb() };
      case FORM_INDIRECT:
        return this.readForm(r, r.uleb(), u);
      case 0x17: // sec_offset
        return { k: 'num', v: r.uN(os) };
      case 0x19: // flag_present
        return { k: 'flag', v: true };
      case 0x1a: // strx
      case 0x1f02: // GNU_str_index
        return { k: 'strref', section: 'strx', v: r.uleb() };
      case 0x1b: // addrx
      case 0x1f01: // GNU_addr_index
      case 0x22: // loclistx
      case 0x23: // rnglistx
        return { k: 'num', v: r.uleb() };
      case 0x1c: // ref_sup4
        return { k: 'ref', v: r.u32(), alt: true };
      case 0x1d: // strp_sup
        return { k: 'strref', section: 'alt', v: r.uN(os) };
      case 0x1e: // data16
        r.pos += 16;
        return { k: 'none' };
      case 0x1f: // line_strp
        return { k: 'strref', section: 'line_str', v: r.uN(os) };
      case 0x20: // ref_sig8
        r.pos += 8;
        return { k: 'none' };
      case FORM_IMPLICIT_CONST:
        return { k: 'num', v: implicit ?? 0 };
      case 0x24: // ref_sup8
        return { k: 'ref', v: r.u64(), alt: true };
      case 0x25: // strx1
        return { k: 'strref', section: 'strx', v: r.u8() };
      case 0x26: // strx2
        return { k: 'strref', section: 'strx', v: r.u16() };
      case 0x27: // strx3
        return { k: 'strref', section: 'strx', v: r.u24() };
      case 0x28: // strx4
        return { k: 'strref', section: 'strx', v: r.u32() };
      case 0x29: // addrx1
        return { k: 'num', v: r.u8() };
      case 0x2a: // addrx2
        return { k: 'num', v: r.u16() };
      case 0x2b: // addrx3
        return { k: 'num', v: r.u24() };
      case 0x2c: // addrx4
        return { k: 'num', v: r.u32() };
      case 0x1f20: // GNU_ref_alt
        return { k: 'ref', v: r.uN(os), alt: true };
      case 0x1f21: // GNU_strp_alt
        return { k: 'strref', section: 'alt', v: r.uN(os) };
      default:
        throw new DwarfError(`unknown DWARF form 0x${form.toString(16)} in unit at 0x${u.offset.toString(16)}`);
    }
  }

  private block(r: Reader, len: number): AttrValue {
    const v = r.buf.subarray(r.pos, r.pos + len);
    r.pos += len;
    return { k: 'block', v };
  }

  /** A string attribute's text; undefined when absent or in a supplementary file. */
  str(die: Die, at: number): string | undefined {
    const v = die.attrs.get(at);
    return v ? this.strValue(v, die.unit) : undefined;
  }

  private strValue(v: AttrValue, u: Unit): string | undefined {
    if (v.k === 'str') return v.v;
    if (v.k !== 'strref') return undefined;
    if (v.section === 'str') return cstrAt(this.section('.debug_str') ?? Buffer.alloc(0), v.v);
    if (v.section === 'line_str') return cstrAt(this.section('.debug_line_str') ?? Buffer.alloc(0), v.v);
    if (v.section === 'strx') {
      const offs = this.section('.debug_str_offsets');
      u.root();
      // Without DW_AT_str_offsets_base (GNU split DWARF), the table's first header follows.
      const base = u.strOffsetsBase ?? (u.version >= 5 ? 8 : 0);
      if (!offs) return undefined;
      const at2 = base + v.v * u.offsetSize;
      if (at2 + u.offsetSize > offs.length) return undefined;
      const so = u.offsetSize === 8 ? new Reader(offs, at2).u64() : offs.readUInt32LE(at2);
      return cstrAt(this.section('.debug_str') ?? Buffer.alloc(0), so);
    }
    return undefined;
  }

  num(die: Die, at: number): number | undefined {
    const v = die.attrs.get(at);
    return v && v.k === 'num' ? v.v : undefined;
  }

  has(die: Die, at: number): boolean {
    return die.attrs.has(at);
  }

  /** The DIE an attribute refers to (DW_AT_type, DW_AT_abstract_origin...), or null. */
  ref(die: Die, at: number): Die | null {
    const v = die.attrs.get(at);
    if (!v || v.k !== 'ref' || v.alt) return null;
    try {
      return this.dieAt(v.v);
    } catch {
      return null;
    }
  }

  /**
   * An attribute of `die` or, like libdw's dwarf_attr_integrate, of the DIEs
   * its DW_AT_abstract_origin / DW_AT_specification chain leads to.
   */
  integrate(die: Die, at: number): Die | null {
    let d: Die | null = die;
    for (let i = 0; d && i < 16; i++) {
      if (d.attrs.has(at)) return d;
      d = this.ref(d, DW_AT.abstract_origin) ?? this.ref(d, DW_AT.specification);
    }
    return null;
  }

  /** DW_AT_name, following abstract origins and specifications (libdw's dwarf_diename). */
  name(die: Die): string | undefined {
    const d = this.integrate(die, DW_AT.name);
    return d ? this.str(d, DW_AT.name) : undefined;
  }

  /** DW_AT_type, integrated. */
  typeOf(die: Die): Die | null {
    const d = this.integrate(die, DW_AT.type);
    return d ? this.ref(d, DW_AT.type) : null;
  }

  /** The children of `die`, in order. */
  children(die: Die): Die[] {
    const out: Die[] = [];
    if (!die.hasChildren) return out;
    let off = die.next;
    for (;;) {
      const c = this.dieAt(off, die.unit);
      if (!c) break;
      out.push(c);
      off = this.after(c);
    }
    return out;
  }

  /** The offset of the DIE after `die` and all its descendants. */
  after(die: Die): number {
    if (!die.hasChildren) return die.next;
    const sib = die.attrs.get(DW_AT.sibling);
    if (sib && sib.k === 'ref' && !sib.alt && sib.v > die.offset && sib.v <= die.unit.end) return sib.v;
    let off = die.next;
    for (;;) {
      const c = this.dieAt(off, die.unit);
      if (!c) return this.nullEnd(off);
      off = this.after(c);
    }
  }

  /** Offset past the null entry at `off`. */
  private nullEnd(off: number): number {
    const r = new Reader(this.info(), off);
    r.uleb();
    return r.pos;
  }

  // ---------------------------------------------------------------- functions

  /** .debug_aranges: address ranges of units, sorted. Empty when the section is missing. */
  aranges(): ArangeEntry[] {
    if (this.arangesCache) return this.arangesCache;
    const out: ArangeEntry[] = [];
    const buf = this.section('.debug_aranges');
    let off = 0;
    while (buf && off + 16 <= buf.length) {
      const r = new Reader(buf, off);
      let len = r.u32();
      let os = 4;
      if (len === 0xffffffff) {
        len = r.u64();
        os = 8;
      }
      const end = r.pos + len;
      if (len === 0 || end > buf.length) break;
      r.u16(); // version
      const unit = r.uN(os);
      const addrSize = r.u8();
      r.u8(); // segment selector size
      const tuple = addrSize * 2;
      const hdr = r.pos - off;
      r.pos = off + Math.ceil(hdr / tuple) * tuple;
      while (r.pos + tuple <= end) {
        const lo = r.uN(addrSize);
        const ln = r.uN(addrSize);
        if (lo === 0 && ln === 0) break;
        out.push({ lo, hi: lo + ln, unit });
      }
      off = end;
    }
    if (out.length === 0) this.unitRanges(out);
    out.sort((a, b) => a.lo - b.lo);
    return (this.arangesCache = out);
  }

  /**
   * Without .debug_aranges (clang, some other compilers), the ranges the
   * compile units' root DIEs give: low_pc/high_pc, or DW_AT_ranges in
   * .debug_ranges (DWARF 4) or .debug_rnglists (DWARF 5, direct entries).
   * Units whose ranges need .debug_addr are left out: they are found by
   * walking every unit.
   */
  private unitRanges(out: ArangeEntry[]): void {
    for (const u of this.units()) {
      if (u.unitType !== 1) continue;
      try {
        const root = u.root();
        const r = new Reader(this.info(), u.dieStart);
        const ab = u.abbrevs[r.uleb()];
        const formOf = (at: number) => {
          for (let i = 0; i < ab.spec.length; i += 3) if (ab.spec[i] === at) return ab.spec[i + 1];
          return undefined;
        };
        const lowForm = formOf(DW_AT.low_pc);
        const low = lowForm === 0x01 ? this.num(root, DW_AT.low_pc) : undefined;
        const high = this.num(root, DW_AT.high_pc);
        const highForm = formOf(DW_AT.high_pc);
        const ranges = this.num(root, DW_AT.ranges);
        if (ranges !== undefined && formOf(DW_AT.ranges) !== 0x23) {
          for (const [lo, hi] of this.rangeList(u, ranges, low ?? 0)) out.push({ lo, hi, unit: u.offset });
        } else if (low !== undefined && high !== undefined && highForm !== undefined) {
          out.push({ lo: low, hi: highForm === 0x01 ? high : low + high, unit: u.offset });
        }
      } catch {
        // an unreadable root: the unit is found by the full walk
      }
    }
  }

  private rangeList(u: Unit, off: number, base: number): [number, number][] {
    const out: [number, number][] = [];
    const as = u.addrSize;
    const max = as === 8 ? 0xffff_ffff_ffff_ffff : 0xffff_ffff;
    if (u.version < 5) {
      const buf = this.section('.debug_ranges');
      if (!buf) return out;
      const r = new Reader(buf, off);
      while (r.pos + 2 * as <= buf.length) {
        const a = r.uN(as);
        const b = r.uN(as);
        if (a === 0 && b === 0) break;
        if (a >= max) base = b;
        else out.push([base + a, base + b]);
      }
      return out;
    }
    const buf = this.section('.debug_rnglists');
    if (!buf) return out;
    const r = new Reader(buf, off);
    for (;;) {
      const kind = r.u8();
      if (kind === 0) break;
      if (kind === 4) {
        const a = r.uleb();
        const b = r.uleb();
        out.push([base + a, base + b]);
      } else if (kind === 5) base = r.uN(as);
      else if (kind === 6) {
        const a = r.uN(as);
        out.push([a, r.uN(as)]);
      } else if (kind === 7) {
        const a = r.uN(as);
        out.push([a, a + r.uleb()]);
      } else throw new DwarfError('range list entry needs .debug_addr');
    }
    return out;
  }

  /** The unit whose code covers `addr`, by .debug_aranges. */
  unitForAddress(addr: number): Unit | undefined {
    const ar = this.aranges();
    let lo = 0;
    let hi = ar.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ar[mid].hi <= addr) lo = mid + 1;
      else if (ar[mid].lo > addr) hi = mid - 1;
      else return this.unitAt(ar[mid].unit);
    }
    return undefined;
  }

  /**
   * Walks a unit the way libdw's dwarf_getfuncs does, recording each
   * defining (non-declaration) subprogram by name: into namespaces, classes,
   * structs, lexical scopes and imported units; not into functions of C
   * units (C has no nested functions). DIEs are skimmed: only the
   * attributes the walk needs are decoded, and nothing is kept but the
   * names found.
   */
  private walkUnit(u: Unit): void {
    if (this.walked.has(u)) return;
    this.walked.add(u);
    this.stats.unitsWalked++;
    const root = u.root();
    if (root.tag === DW_TAG.type_unit || !root.hasChildren) return;
    this.walkScope(root.next, u, u.isC, 0);
  }

  /** Walks the children starting at `off` (up to their null entry); returns the offset past it. */
  private walkScope(off: number, u: Unit, isC: boolean, depth: number): number {
    const buf = this.info();
    const r = new Reader(buf, off);
    for (;;) {
      if (r.pos >= u.end) return r.pos;
      const at = r.pos;
      const code = r.uleb();
      if (code === 0) return r.pos;
      const ab = u.abbrevs[code];
      if (!ab) throw new DwarfError(`DIE at 0x${at.toString(16)} uses unknown abbreviation ${code}`);
      this.stats.diesDecoded++;
      let sibling = -1;
      let decl = false;
      let nameVal: AttrValue | undefined;
      let origin = false;
      let importRef = -1;
      const spec = ab.spec;
      const isSub = ab.tag === DW_TAG.subprogram;
      for (let i = 0; i < spec.length; i += 3) {
        const form = spec[i + 1];
        switch (spec[i]) {
          case DW_AT.sibling:
            sibling = readRef(r, form, u);
            break;
          case DW_AT.declaration:
            decl = true;
            skipForm(r, form, u);
            break;
          case DW_AT.name:
            if (isSub) nameVal = this.readForm(r, form, u, spec[i + 2]);
            else skipForm(r, form, u);
            break;
          case DW_AT.abstract_origin:
          case DW_AT.specification:
            origin = true;
            skipForm(r, form, u);
            break;
          case DW_AT.import:
            if (ab.tag === DW_TAG.imported_unit) importRef = readRef(r, form, u);
            else skipForm(r, form, u);
            break;
          default:
            skipForm(r, form, u);
        }
      }
      const next = r.pos;
      let descend = false;
      if (ab.tag === DW_TAG.subprogram) {
        if (!decl && (nameVal || origin)) {
          // The name is usually right here; an out-of-line copy has it at its origin.
          const n = nameVal ? this.strValue(nameVal, u) : this.name(this.dieAt(at, u)!);
          if (n !== undefined && !this.funcIndex.has(n)) this.funcIndex.set(n, at);
        }
        descend = !isC;
      } else if (ab.tag === DW_TAG.imported_unit) {
        if (importRef >= 0) {
          const target = this.dieAt(importRef);
          if (target && target.hasChildren && !this.walked.has(target.unit)) {
            this.walked.add(target.unit);
            if (!target.unit.abbrevs) target.unit.abbrevs = this.abbrevsAt(target.unit.abbrevOffset);
            this.walkScope(target.next, target.unit, isC, depth + 1);
          }
        }
      } else if (SCOPES.has(ab.tag)) {
        // C structs hold no functions: libdw walks them, finding nothing.
        descend = !(isC && (ab.tag === DW_TAG.structure_type || ab.tag === DW_TAG.class_type));
      }
      if (!ab.children) {
        r.pos = next;
        continue;
      }
      if (descend && depth < 64) {
        r.pos = this.walkScope(next, u, isC, depth + 1);
      } else if (sibling > at && sibling <= u.end) {
        r.pos = sibling;
      } else {
        r.pos = this.skipChildren(next, u);
      }
    }
  }

  /** The offset past the children list starting at `off`. */
  private skipChildren(off: number, u: Unit): number {
    const r = new Reader(this.info(), off);
    let depth = 1;
    while (depth > 0 && r.pos < u.end) {
      const code = r.uleb();
      if (code === 0) {
        depth--;
        continue;
      }
      const ab = u.abbrevs[code];
      if (!ab) throw new DwarfError(`DIE in unit 0x${u.offset.toString(16)} uses unknown abbreviation ${code}`);
      const spec = ab.spec;
      for (let i = 0; i < spec.length; i += 3) skipForm(r, spec[i + 1], u);
      if (ab.children) depth++;
    }
    return r.pos;
  }

  /**
   * The DIE of function `name` as bpftrace (libdw's dwarf_getfuncs over
   * every unit in order) finds it: the first defining subprogram with that
   * name. `addr`, the function's symbol address when known, lets the unit
   * that holds its code be looked at first, so one unit is read instead of
   * all of them.
   */
  findFunction(name: string, addr?: number): Die | null {
    const hit = this.funcIndex.get(name);
    if (hit !== undefined) return this.dieAt(hit);
    if (addr !== undefined) {
      const u = this.unitForAddress(addr);
      if (u) {
        this.walkUnit(u);
        const h = this.funcIndex.get(name);
        if (h !== undefined) return this.dieAt(h);
      }
    }
    for (const u of this.units()) {
      // Compile units; partial units are reached through DW_TAG_imported_unit.
      if (u.unitType !== 1) continue;
      this.walkUnit(u);
      const h = this.funcIndex.get(name);
      if (h !== undefined) return this.dieAt(h);
    }
    return null;
  }

  /** The DW_TAG_formal_parameter children of a function DIE. */
  params(fn: Die): Die[] {
    return this.children(fn).filter((c) => c.tag === DW_TAG.formal_parameter);
  }

  /**
   * A type as bpftrace 0.17 spells it in `-lv` (its get_type_name over
   * libdw): base types and typedefs by name, `T*` for pointers, `const T`
   * (or `T* const` for a const pointer), `struct/union/enum NAME` or
   * `<anonymous>`, and `<unknown type>` for everything else (volatile,
   * restrict, function types, and a missing type under const).
   */
  typeName(t: Die | null): string {
    return this.typeNameAt(t, 0);
  }

  private typeNameAt(t: Die | null, depth: number): string {
    if (!t || depth > 32) return '<unknown type>';
    switch (t.tag) {
      case DW_TAG.base_type:
      case DW_TAG.typedef:
        return this.name(t) ?? '';
      case DW_TAG.pointer_type:
        return t.attrs.has(DW_AT.type) ? `${this.typeNameAt(this.typeOf(t), depth + 1)}*` : 'void*';
      case DW_TAG.structure_type:
      case DW_TAG.union_type:
      case DW_TAG.enumeration_type: {
        const prefix = t.tag === DW_TAG.structure_type ? 'struct ' : t.tag === DW_TAG.union_type ? 'union ' : 'enum ';
        const n = t.attrs.has(DW_AT.name) ? this.name(t) : undefined;
        return prefix + (n ?? '<anonymous>');
      }
      case DW_TAG.const_type: {
        const inner = this.typeOf(t);
        if (inner && inner.tag === DW_TAG.pointer_type) return `${this.typeNameAt(inner, depth + 1)} const`;
        return `const ${this.typeNameAt(inner, depth + 1)}`;
      }
      default:
        return '<unknown type>';
    }
  }

  /** Strips typedef, const, volatile, restrict and atomic qualifiers (libdw's dwarf_peel_type). */
  peel(t: Die | null): Die | null {
    for (let i = 0; t && i < 64; i++) {
      if (!PEELED.has(t.tag)) return t;
      t = this.typeOf(t);
    }
    return t;
  }

  /** DW_AT_byte_size (or bit size / 8), integrated; undefined when absent. */
  byteSize(t: Die): number | undefined {
    const d = this.integrate(t, DW_AT.byte_size);
    if (d) return this.num(d, DW_AT.byte_size);
    const b = this.integrate(t, DW_AT.bit_size);
    const bits = b ? this.num(b, DW_AT.bit_size) : undefined;
    return bits === undefined ? undefined : Math.ceil(bits / 8);
  }

  /** A member's byte offset from DW_AT_data_member_location (a constant or a DW_OP_plus_uconst expression). */
  memberOffset(m: Die): number | undefined {
    const v = m.attrs.get(DW_AT.data_member_location);
    if (!v) return undefined;
    if (v.k === 'num') return v.v;
    if (v.k === 'block' && v.v.length >= 2 && v.v[0] === 0x23) return new Reader(v.v, 1).uleb(); // DW_OP_plus_uconst
    return undefined;
  }

  /** Element count of one DW_TAG_subrange_type: upper_bound + 1, or count, or 0. */
  subrangeCount(s: Die): number {
    const ub = this.num(s, DW_AT.upper_bound);
    if (ub !== undefined) return ub + 1;
    return this.num(s, DW_AT.count) ?? 0;
  }
}

const PEELED = new Set<number>([
  DW_TAG.typedef,
  DW_TAG.const_type,
  DW_TAG.volatile_type,
  DW_TAG.restrict_type,
  DW_TAG.atomic_type,
  DW_TAG.immutable_type,
  DW_TAG.packed_type,
  DW_TAG.shared_type,
]);

export interface FunctionParam {
  /** Empty when the parameter has no DW_AT_name. */
  name: string;
  type: Die | null;
  die: Die;
}

/** A function's parameters by DWARF, or null when DWARF has no such function. */
export function functionParams(dwarf: Dwarf, name: string, addr?: number): FunctionParam[] | null {
  const fn = dwarf.findFunction(name, addr);
  if (!fn) return null;
  return dwarf.params(fn).map((p) => ({ name: dwarf.name(p) ?? '', type: dwarf.typeOf(p), die: p }));
}

/** `-lv` lines for a function: `    int a`, `    const char* s`... */
export function paramListing(dwarf: Dwarf, name: string, addr?: number): string[] {
  const ps = functionParams(dwarf, name, addr);
  if (!ps) return [];
  return ps.map((p) => `    ${dwarf.typeName(p.type)}${p.name ? ` ${p.name}` : ''}`);
}

const SCOPES = new Set<number>([
  DW_TAG.compile_unit,
  DW_TAG.module,
  DW_TAG.lexical_block,
  DW_TAG.with_stmt,
  DW_TAG.catch_block,
  DW_TAG.try_block,
  DW_TAG.entry_point,
  DW_TAG.inlined_subroutine,
  DW_TAG.namespace,
  DW_TAG.class_type,
  DW_TAG.structure_type,
]);

// ------------------------------------------------------------------ per-file cache

const byElf = new WeakMap<Elf, Dwarf | null>();

/**
 * The DWARF of `elf`: its own .debug_info, else that of its separate debug
 * file (build id or .gnu_debuglink, as libdw's standard lookup finds it).
 * Null when neither has any. Cached with the Elf (which is cached per file).
 */
export function dwarfOf(elf: Elf): Dwarf | null {
  if (byElf.has(elf)) return byElf.get(elf)!;
  let d: Dwarf | null = new Dwarf(elf);
  if (!d.hasInfo) {
    const dbg = elf.debugFile();
    d = dbg ? new Dwarf(dbg) : null;
    if (d && !d.hasInfo) d = null;
  }
  byElf.set(elf, d);
  return d;
}
