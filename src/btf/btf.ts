// Lazy BTF reader. Opening a file costs one read and one linear pass that
// records where each type record starts; a type is decoded (and cached) only
// when something asks for it. A program typically touches a few dozen of the
// ~130k types in vmlinux, so decoding everything up front would waste most of
// the start-up budget.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { MAP_PRIVATE, PROT_READ, libcLoaded, mmap } from '../bpf/sys.js';
import { formatType } from './ctext.js';
import {
  BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BTF_KIND, BtfError, KIND_NAMES,
  type BtfEnumValue, type BtfKindName, type BtfLinkage, type BtfMember, type BtfParam, type BtfStruct,
  type BtfType, type BtfVarSecinfo,
} from './types.js';

const BTF_MAGIC = 0xeb9f;
const SYSFS_BTF = '/sys/kernel/btf';
/** BTF records no pointer size; every target bpfkit supports is LP64. */
const POINTER_SIZE = 8;
/**
 * Name lookups scan the type table until this many have been made, then build
 * a name -> ids map. On vmlinux a scan costs 1-3 ms and building the map
 * 60-140 ms (bench/btf.bench.ts), so a script naming a handful of types never
 * pays for the map, and one making hundreds of lookups still gets it.
 */
const SCANS_BEFORE_INDEX = 32;
/** Strings decoded one by one before the whole section is turned into one JS string. */
const STRINGS_BEFORE_SLICING = 2000;
/** Up to this many candidate string offsets, a name scan uses one native indexOf pass per offset. */
const NATIVE_SCANS = 12;

const LINKAGES: BtfLinkage[] = ['static', 'global', 'extern'];
const MODIFIERS = new Set<number>([BTF_KIND.typedef, BTF_KIND.volatile, BTF_KIND.const, BTF_KIND.restrict, BTF_KIND.type_tag]);

// Record length in 32-bit words is FIXED[kind] + PER_VLEN[kind] * vlen; as
// tables the index pass stays a tight loop (it runs cold, before the JIT).
// -1 marks kinds this reader does not know, whose length cannot be told.
const FIXED = new Int32Array([-1, 4, 3, 6, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 4, 3, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
const PER_VLEN = new Int32Array([0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/**
 * The file's bytes. sysfs hands out BTF 4 KiB per read(), ~1300 syscalls for
 * vmlinux; newer kernels also let it be mapped, which is ten times faster,
 * but only worth it when koffi is loaded already (loading it costs more than
 * the reads save).
 */
function readBtf(path: string): Buffer {
  if (path.startsWith(`${SYSFS_BTF}/`) && libcLoaded()) {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      // The mapping lives as long as the Buffer (and the views made from it) does.
      if (size > 0) return Buffer.from(mmap(fd, size, PROT_READ, 0, MAP_PRIVATE).view, 0, size);
    } catch {
      // Older kernels refuse to map it: read it instead.
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  return readFileSync(path);
}

/** The C string starting at `start` of a string section held as one JS string. */
function sliceString(all: string, start: number): string {
  const end = all.indexOf('\0', start);
  return all.slice(start, end < 0 ? all.length : end);
}

const VOID: BtfType = Object.freeze({ id: 0, kind: 'void', name: 'void' });

export class Btf {
  private static vmlinuxBtf: Btf | undefined;
  private static moduleBtfs = new Map<string, Btf>();

  /** Where the data came from, for error messages. */
  readonly source: string;
  /** The vmlinux BTF a module's split BTF continues; undefined for a self-contained file. */
  readonly base: Btf | undefined;
  /** Lowest type id stored in this file: 1, or one past the base's last id. */
  readonly firstId: number;
  /** Highest valid type id (this file's types included). */
  readonly lastId: number;

  /** The type section as 32-bit words (BTF records are word-aligned). */
  private readonly words: Uint32Array;
  /** offsets[id - firstId] = index into `words` of that type's record. */
  private readonly offsets: Uint32Array;
  /** names[id - firstId] = string offset of that type's name, contiguous so a lookup is a native indexOf. */
  private readonly names: Uint32Array;
  private readonly strings: Buffer;
  /** String offsets below this refer to the base's string section. */
  private readonly stringBase: number;
  private readonly decoded: (BtfType | undefined)[];
  private nameIndex: Map<string, number[]> | undefined;
  private scans = 0;
  private strCalls = 0;
  /** The string section as one JS string, made once str() is called often. */
  private allStrings: string | undefined;
  /** Scratch for scanByName, one byte per string offset; zero between calls. */
  private marks: Uint8Array | undefined;
  private readonly memberMaps = new Map<number, Map<string, BtfMember>>();

  private constructor(buf: Buffer, source: string, base: Btf | undefined) {
    this.source = source;
    this.base = base;
    if (buf.length < 24) throw new BtfError(`${source}: too short for a BTF header`);
    const magic = buf.readUInt16LE(0);
    if (magic !== BTF_MAGIC) {
      throw new BtfError(magic === 0x9feb
        ? `${source}: BTF is big-endian, this host is little-endian`
        : `${source}: not BTF (magic 0x${magic.toString(16)})`);
    }
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    const strOff = buf.readUInt32LE(16);
    const strLen = buf.readUInt32LE(20);
    const typeStart = hdrLen + typeOff;
    const strStart = hdrLen + strOff;
    if (typeStart + typeLen > buf.length || strStart + strLen > buf.length || typeLen % 4 !== 0) {
      throw new BtfError(`${source}: section offsets lie outside the file`);
    }
    if ((buf.byteOffset + typeStart) % 4 === 0) {
      this.words = new Uint32Array(buf.buffer, buf.byteOffset + typeStart, typeLen / 4);
    } else {
      const copy = new Uint8Array(typeLen);
      copy.set(buf.subarray(typeStart, typeStart + typeLen));
      this.words = new Uint32Array(copy.buffer);
    }
    this.strings = buf.subarray(strStart, strStart + strLen);
    this.stringBase = base ? base.stringBase + base.strings.length : 0;
    this.firstId = base ? base.lastId + 1 : 1;

    // The one eager pass: each record's length follows from its kind and vlen.
    const w = this.words;
    const cap = Math.floor(w.length / 3) + 1;
    const offsets = new Uint32Array(cap);
    const names = new Uint32Array(cap);
    let n = 0;
    for (let p = 0; p < w.length;) {
      const info = w[p + 1];
      const kind = (info >>> 24) & 0x1f;
      const fixed = FIXED[kind];
      if (fixed < 0) throw new BtfError(`${source}: type id ${this.firstId + n} has unknown kind ${kind}`);
      offsets[n] = p;
      names[n++] = w[p];
      p += fixed + PER_VLEN[kind] * (info & 0xffff);
      if (p > w.length) throw new BtfError(`${source}: type id ${this.firstId + n - 1} runs past the type section`);
    }
    this.offsets = offsets.subarray(0, n);
    this.names = names.subarray(0, n);
    this.lastId = this.firstId + n - 1;
    this.decoded = new Array(n);
  }

  /** Parses BTF held in memory; `base` for split BTF (a module's). */
  static fromBuffer(buf: Buffer, base?: Btf, source = '<buffer>'): Btf {
    return new Btf(buf, source, base);
  }

  static fromFile(path: string, base?: Btf): Btf {
    let buf: Buffer;
    try {
      buf = readBtf(path);
    } catch (e) {
      throw new BtfError(`cannot read BTF from ${path}: ${(e as Error).message}`);
    }
    return new Btf(buf, path, base);
  }

  /** The running kernel's BTF, read once per process. */
  static vmlinux(): Btf {
    if (!Btf.vmlinuxBtf) {
      const path = `${SYSFS_BTF}/vmlinux`;
      if (!existsSync(path)) throw new BtfError(`kernel BTF not available: ${path} does not exist (kernel built without CONFIG_DEBUG_INFO_BTF)`);
      Btf.vmlinuxBtf = Btf.fromFile(path);
    }
    return Btf.vmlinuxBtf;
  }

  /** A loaded module's split BTF, whose ids continue after vmlinux's. */
  static module(name: string): Btf {
    let m = Btf.moduleBtfs.get(name);
    if (!m) {
      if (name === 'vmlinux') return Btf.vmlinux();
      if (!/^[\w-]+$/.test(name)) throw new BtfError(`invalid module name: '${name}'`);
      const path = `${SYSFS_BTF}/${name}`;
      if (!existsSync(path)) throw new BtfError(`no BTF for module '${name}': ${path} does not exist (module not loaded or built without BTF)`);
      m = Btf.fromFile(path, Btf.vmlinux());
      Btf.moduleBtfs.set(name, m);
    }
    return m;
  }

  static available(): boolean {
    return existsSync(`${SYSFS_BTF}/vmlinux`);
  }

  /** Names of the loaded modules that carry BTF. */
  static moduleNames(): string[] {
    try {
      return readdirSync(SYSFS_BTF).filter((n) => n !== 'vmlinux').sort();
    } catch {
      return [];
    }
  }

  /** Number of types in this file (the base's not counted). */
  get typeCount(): number {
    return this.offsets.length;
  }

  // ------------------------------------------------------------------ strings

  /** The NUL-terminated string at `off` in the (possibly base's) string section. */
  str(off: number): string {
    if (off < this.stringBase) return this.base!.str(off);
    const start = off - this.stringBase;
    if (start >= this.strings.length) throw new BtfError(`${this.source}: string offset ${off} out of range`);
    const all = this.allStrings;
    if (all !== undefined) return sliceString(all, start);
    // Decoding from the Buffer costs a native call per string; once many are
    // wanted, one string of the whole section is cheaper to slice from.
    if (++this.strCalls > STRINGS_BEFORE_SLICING) this.allStrings = this.strings.toString('latin1');
    let end = this.strings.indexOf(0, start);
    if (end < 0) end = this.strings.length;
    return this.strings.toString('latin1', start, end);
  }

  /** Every string offset whose string equals `name`, the base's sections included. */
  private stringOffsets(name: string, needle = Buffer.from(`${name}\0`, 'latin1'), out: number[] = []): number[] {
    this.base?.stringOffsets(name, needle, out);
    // An occurrence of "name\0" anywhere, even inside a longer string, is a
    // valid offset for exactly "name": strings may share suffixes.
    for (let i = this.strings.indexOf(needle); i >= 0; i = this.strings.indexOf(needle, i + 1)) out.push(i + this.stringBase);
    return out;
  }

  // ---------------------------------------------------------------- raw access

  private recordOf(id: number): number {
    if (id < this.firstId || id > this.lastId || !Number.isInteger(id)) {
      throw new BtfError(`${this.source}: no type with id ${id}`);
    }
    return this.offsets[id - this.firstId];
  }

  /** Kind number of `id` without decoding the record. */
  kindOf(id: number): number {
    if (id === 0) return 0;
    if (id < this.firstId) return this.base!.kindOf(id);
    return (this.words[this.recordOf(id) + 1] >>> 24) & 0x1f;
  }

  /** Name of `id` without decoding the rest of the record. */
  nameOf(id: number): string {
    if (id === 0) return 'void';
    if (id < this.firstId) return this.base!.nameOf(id);
    return this.str(this.words[this.recordOf(id)]);
  }

  // ------------------------------------------------------------------- lookups

  /** Lowest type id named `name` (of the given kind, if any), base types first. */
  findByName(name: string, kind?: BtfKindName): number | undefined {
    return this.findAllByName(name, kind)[0];
  }

  /** Every type id named `name` (of the given kind, if any), ascending. */
  findAllByName(name: string, kind?: BtfKindName): number[] {
    const out = this.base ? this.base.findAllByName(name, kind) : [];
    if (name === '') return out;
    const want = kind === undefined ? -1 : BTF_KIND[kind];
    let ids: number[];
    if (this.nameIndex) {
      ids = this.nameIndex.get(name) ?? [];
    } else if (++this.scans > SCANS_BEFORE_INDEX) {
      this.buildNameIndex();
      ids = this.nameIndex!.get(name) ?? [];
    } else {
      ids = this.scanByName(name);
    }
    for (const id of ids) if (want < 0 || this.kindOf(id) === want) out.push(id);
    return out;
  }

  /** Ids of this file's types named `name`, by a scan that ignores (and never builds) the name map. */
  scanByName(name: string): number[] {
    const ids: number[] = [];
    const offs = this.stringOffsets(name);
    const nm = this.names;
    if (offs.length <= NATIVE_SCANS) {
      // TypedArray#indexOf runs natively: a few passes beat one cold JS loop.
      for (const s of offs) for (let i = nm.indexOf(s); i >= 0; i = nm.indexOf(s, i + 1)) ids.push(this.firstId + i);
      return ids.length > 1 ? ids.sort((a, b) => a - b) : ids;
    }
    // Short names ("file", "len") end hundreds of longer strings: mark them all, pass once.
    const mark = (this.marks ??= new Uint8Array(this.stringBase + this.strings.length));
    for (const s of offs) mark[s] = 1;
    for (let i = 0; i < nm.length; i++) if (mark[nm[i]] === 1) ids.push(this.firstId + i);
    for (const s of offs) mark[s] = 0;
    return ids;
  }

  /** Builds the name -> ids map now (lookups otherwise build it after a few scans). */
  buildNameIndex(): void {
    if (this.nameIndex) return;
    const index = new Map<string, number[]>();
    // Slicing one string of the whole section is several times cheaper than
    // decoding each name from the Buffer.
    const all = (this.allStrings ??= this.strings.toString('latin1'));
    const nm = this.names, base = this.stringBase;
    for (let i = 0; i < nm.length; i++) {
      const off = nm[i];
      if (off === 0) continue;
      const s = off < base ? this.base!.str(off) : sliceString(all, off - base);
      const list = index.get(s);
      if (list) list.push(this.firstId + i); else index.set(s, [this.firstId + i]);
    }
    this.nameIndex = index;
  }

  // ------------------------------------------------------------------ decoding

  /** The decoded type; id 0 is void. Decoded once and shared: treat it as read-only. */
  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.firstId && this.base) return this.base.type(id);
    const p = this.recordOf(id);
    const cached = this.decoded[id - this.firstId];
    if (cached) return cached;
    const t = this.decode(id, p);
    this.decoded[id - this.firstId] = t;
    return t;
  }

  private decode(id: number, p: number): BtfType {
    const w = this.words;
    const name = this.str(w[p]);
    const info = w[p + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = w[p + 2];
    const q = p + 3;
    switch (kind) {
      case BTF_KIND.int: {
        const v = w[q];
        const encoding = (v >>> 24) & 0x0f;
        return {
          id, kind: 'int', name, size: sizeOrType, encoding, signed: (encoding & BTF_INT_SIGNED) !== 0,
          isChar: (encoding & BTF_INT_CHAR) !== 0, isBool: (encoding & BTF_INT_BOOL) !== 0,
          offset: (v >>> 16) & 0xff, bits: v & 0xff,
        };
      }
      case BTF_KIND.ptr: return { id, kind: 'ptr', name, type: sizeOrType };
      case BTF_KIND.array: return { id, kind: 'array', name, elem: w[q], index: w[q + 1], nelems: w[q + 2] };
      case BTF_KIND.struct: case BTF_KIND.union: {
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = q + 3 * i;
          const typeId = w[m + 1];
          const off = w[m + 2];
          let bitOffset = off, bitfieldSize = 0;
          if (kflag) {
            bitOffset = off & 0xffffff;
            bitfieldSize = off >>> 24;
          } else {
            // Without kind_flag a bitfield is told by its int type's bits/offset.
            const base = this.resolve(typeId);
            if (base !== 0 && this.kindOf(base) === BTF_KIND.int) {
              const it = this.type(base);
              if (it.kind === 'int' && (it.bits !== it.size * 8 || it.offset !== 0)) {
                bitfieldSize = it.bits;
                bitOffset += it.offset;
              }
            }
          }
          members.push({ name: this.str(w[m]), typeId, bitOffset, bitfieldSize });
        }
        return { id, kind: kind === BTF_KIND.struct ? 'struct' : 'union', name, size: sizeOrType, members };
      }
      case BTF_KIND.enum: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const raw = w[q + 2 * i + 1];
          values.push({ name: this.str(w[q + 2 * i]), value: kflag ? BigInt(raw | 0) : BigInt(raw) });
        }
        return { id, kind: 'enum', name, size: sizeOrType, signed: kflag, values };
      }
      case BTF_KIND.enum64: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = q + 3 * i;
          const u = (BigInt(w[m + 2]) << 32n) | BigInt(w[m + 1]);
          values.push({ name: this.str(w[m]), value: kflag ? BigInt.asIntN(64, u) : u });
        }
        return { id, kind: 'enum64', name, size: sizeOrType, signed: kflag, values };
      }
      case BTF_KIND.fwd: return { id, kind: 'fwd', name, union: kflag };
      case BTF_KIND.typedef: case BTF_KIND.volatile: case BTF_KIND.const: case BTF_KIND.restrict: case BTF_KIND.type_tag:
        return { id, kind: KIND_NAMES[kind] as 'typedef', name, type: sizeOrType };
      case BTF_KIND.func: return { id, kind: 'func', name, proto: sizeOrType, linkage: LINKAGES[vlen] ?? 'static' };
      case BTF_KIND.func_proto: {
        const params: BtfParam[] = [];
        let variadic = false;
        for (let i = 0; i < vlen; i++) {
          const nameOff = w[q + 2 * i], typeId = w[q + 2 * i + 1];
          // `...` is encoded as a last parameter with neither name nor type.
          if (i === vlen - 1 && nameOff === 0 && typeId === 0) { variadic = true; break; }
          params.push({ name: this.str(nameOff), typeId });
        }
        return { id, kind: 'func_proto', name, ret: sizeOrType, params, variadic };
      }
      case BTF_KIND.var: return { id, kind: 'var', name, type: sizeOrType, linkage: LINKAGES[w[q]] ?? 'static' };
      case BTF_KIND.datasec: {
        const vars: BtfVarSecinfo[] = [];
        for (let i = 0; i < vlen; i++) vars.push({ type: w[q + 3 * i], offset: w[q + 3 * i + 1], size: w[q + 3 * i + 2] });
        return { id, kind: 'datasec', name, size: sizeOrType, vars };
      }
      case BTF_KIND.float: return { id, kind: 'float', name, size: sizeOrType };
      case BTF_KIND.decl_tag: return { id, kind: 'decl_tag', name, type: sizeOrType, componentIdx: w[q] | 0 };
      default: throw new BtfError(`${this.source}: type id ${id} has unknown kind ${kind}`);
    }
  }

  // ------------------------------------------------------------------ queries

  /** Follows typedef/const/volatile/restrict/type_tag to the underlying type. */
  resolve(id: number): number {
    for (let guard = 0; guard < 64; guard++) {
      if (id === 0 || !MODIFIERS.has(this.kindOf(id))) return id;
      id = (this.type(id) as { type: number }).type;
    }
    throw new BtfError(`${this.source}: modifier chain at type id ${id} does not end`);
  }

  /** Size in bytes, as C's sizeof would give it. */
  sizeof(id: number): number {
    const t = this.type(this.resolve(id));
    switch (t.kind) {
      case 'int': case 'float': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec': return t.size;
      case 'ptr': return POINTER_SIZE;
      case 'array': return t.nelems * this.sizeof(t.elem);
      case 'var': return this.sizeof(t.type);
      default: throw new BtfError(`sizeof applied to incomplete type '${this.typeToString(id)}'`);
    }
  }

  /**
   * Member `name` of a struct or union (typedefs to one are accepted). Members
   * of anonymous struct/union members are found too, their offsets added in,
   * which is how C lets `skb->len` reach inside the unions of sk_buff.
   */
  member(structId: number, name: string): BtfMember | undefined {
    const id = this.resolve(structId);
    let map = this.memberMaps.get(id);
    if (!map) {
      const t = this.type(id);
      if (t.kind !== 'struct' && t.kind !== 'union') throw new BtfError(`'${this.typeToString(structId)}' is not a struct or union`);
      map = new Map();
      this.flattenMembers(t, 0, map, 0);
      this.memberMaps.set(id, map);
    }
    return map.get(name);
  }

  private flattenMembers(t: BtfStruct, base: number, into: Map<string, BtfMember>, depth: number): void {
    if (depth > 32) throw new BtfError(`${this.source}: anonymous members of ${t.kind} ${t.name || t.id} nest too deep`);
    for (const m of t.members) {
      if (m.name !== '') {
        if (!into.has(m.name)) into.set(m.name, base === 0 ? m : { ...m, bitOffset: m.bitOffset + base });
        continue;
      }
      const inner = this.type(this.resolve(m.typeId));
      if (inner.kind === 'struct' || inner.kind === 'union') this.flattenMembers(inner, base + m.bitOffset, into, depth + 1);
    }
  }

  /** Byte offset of member `name`; throws for a missing member or a bitfield. */
  offsetof(structId: number, name: string): number {
    const m = this.member(structId, name);
    if (!m) throw new BtfError(`'${this.typeToString(structId)}' has no member named '${name}'`);
    if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) throw new BtfError(`offsetof a bitfield: '${name}' in '${this.typeToString(structId)}'`);
    return m.bitOffset / 8;
  }

  /** Parameters and return type of the kernel function `funcName`. */
  funcProto(funcName: string): { params: { name: string; typeId: number }[]; ret: number; variadic: boolean } | undefined {
    const id = this.findByName(funcName, 'func');
    if (id === undefined) return undefined;
    const f = this.type(id);
    if (f.kind !== 'func') return undefined;
    const p = this.type(f.proto);
    if (p.kind !== 'func_proto') throw new BtfError(`${this.source}: func ${funcName} (id ${id}) has no prototype`);
    return { params: p.params.map((x) => ({ name: x.name, typeId: x.typeId })), ret: p.ret, variadic: p.variadic };
  }

  /** Enumerators of an enum or enum64 (typedefs to one are accepted). */
  enumValues(id: number): { name: string; value: bigint }[] {
    const t = this.type(this.resolve(id));
    if (t.kind !== 'enum' && t.kind !== 'enum64') throw new BtfError(`'${this.typeToString(id)}' is not an enum`);
    return t.values;
  }

  /** C text for the type, declaring `name` if given: `char comm[16]`, `int (*)(void *)`. */
  typeToString(id: number, name?: string): string {
    return formatType(this, id, name);
  }

  /** Names of this file's BTF_KIND_FUNC types (a module's own only), in id order. */
  *funcs(): Iterable<string> {
    const w = this.words, o = this.offsets;
    for (let i = 0; i < o.length; i++) {
      if (((w[o[i] + 1] >>> 24) & 0x1f) === BTF_KIND.func) yield this.str(this.names[i]);
    }
  }
}
