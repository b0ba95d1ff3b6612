// A reader for the parts of 64-bit little-endian ELF files that tracing
// needs: segments (to turn symbol addresses into the file offsets the uprobe
// PMU takes), symbol tables, and notes (build id, USDT probes). Everything
// past the headers is decoded the first time it is asked for.
import { statSync } from 'node:fs';
import { BufferSource, type ByteSource, cstr, fileSource, u64 } from './bytes.js';
import { debugFileCandidates, debugLinkCrc } from './debugfile.js';
import { parseNotes, type UsdtNote, usdtNoteFrom } from './elfnotes.js';
import { xzDecompress } from './xz.js';

export type { UsdtNote } from './elfnotes.js';

export class ElfError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ElfError';
  }
}

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_DYNAMIC = 2;
const DT_FLAGS_1 = 0x6ffffffb;
const DT_SONAME = 14;
const DF_1_PIE = 0x08000000;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  addralign: number;
  entsize: number;
}

export type SymType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'ifunc' | 'other';
export type SymBind = 'local' | 'global' | 'weak' | 'unique' | 'other';

export interface Sym {
  /** The name as stored; `.symtab` names may carry a version (`memcpy@@GLIBC_2.14`). */
  name: string;
  /** The name without any `@VERSION` suffix. */
  plain: string;
  /** Virtual address (st_value). */
  addr: number;
  size: number;
  type: SymType;
  bind: SymBind;
  shndx: number;
  /** Found in `.dynsym`, i.e. exported. */
  dynamic: boolean;
}

export interface SymbolHit {
  sym: Sym;
  /** addr - sym.addr */
  offset: number;
}

const SYM_TYPES: SymType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];
const SYM_BINDS: SymBind[] = ['local', 'global', 'weak'];

function symType(t: number): SymType {
  if (t === 10) return 'ifunc';
  return SYM_TYPES[t] ?? 'other';
}
function symBind(b: number): SymBind {
  if (b === 10) return 'unique';
  return SYM_BINDS[b] ?? 'other';
}

export function plainName(name: string): string {
  const at = name.indexOf('@');
  return at > 0 ? name.slice(0, at) : name;
}

function isCode(s: Sym): boolean {
  return (s.type === 'func' || s.type === 'ifunc') && s.shndx !== SHN_UNDEF;
}

/**
 * Among aliases at one address, the name a stack should show: exported,
 * global, unversioned, and with the fewest leading underscores (`malloc`
 * over `__libc_malloc`).
 */
function rank(s: Sym): number {
  let r = 0;
  if (!s.dynamic) r += 1000;
  if (s.bind === 'local') r += 400;
  else if (s.bind === 'weak') r += 200;
  if (s.name !== s.plain) r += 100;
  let u = 0;
  while (u < s.name.length && s.name.charCodeAt(u) === 95) u++;
  return r + u * 10;
}

export class Elf {
  readonly type: number;
  readonly machine: number;
  readonly entry: number;
  readonly programHeaders: ProgramHeader[];
  private readonly src: ByteSource;
  private sectionsCache?: SectionHeader[];
  private funcsCache?: Sym[];
  private allCache?: Sym[];
  private byNameCache?: Map<string, Sym[]>;
  private notesCache?: UsdtNote[];
  private buildIdCache?: string | null;
  private debugCache?: Elf | null;

  constructor(
    readonly path: string,
    src: ByteSource,
    private readonly opts: { lookForDebug: boolean } = { lookForDebug: true },
  ) {
    this.src = src;
    const h = src.read(0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(path, 'not an ELF file');
    if (h[4] !== 2 || h[5] !== 1) throw new ElfError(path, 'only 64-bit little-endian ELF files are supported');
    this.type = h.readUInt16LE(16);
    this.machine = h.readUInt16LE(18);
    this.entry = u64(h, 24);
    const phoff = u64(h, 32);
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = src.read(phoff, phentsize * phnum);
    this.programHeaders = [];
    for (let i = 0; i < phnum && (i + 1) * phentsize <= ph.length; i++) {
      const o = i * phentsize;
      this.programHeaders.push({
        type: ph.readUInt32LE(o),
        flags: ph.readUInt32LE(o + 4),
        offset: u64(ph, o + 8),
        vaddr: u64(ph, o + 16),
        filesz: u64(ph, o + 32),
        memsz: u64(ph, o + 40),
      });
    }
  }

  /** Position independent (ET_DYN: a PIE executable or a shared library): loaded at a bias. */
  get isPie(): boolean {
    return this.type === ET_DYN;
  }

  /**
   * ET_DYN that is not a PIE executable. The linker marks PIEs with
   * DF_1_PIE; an interpreter alone proves nothing (libc.so.6 has one, so
   * it can run as a program).
   */
  get isSharedLibrary(): boolean {
    if (this.type !== ET_DYN) return false;
    const flags1 = this.dynamicEntry(DT_FLAGS_1);
    if (flags1 !== null && (flags1 & DF_1_PIE) !== 0) return false;
    // Older linkers did not mark PIEs; a soname still says "library".
    if (this.dynamicEntry(DT_SONAME) !== null) return true;
    return !this.programHeaders.some((p) => p.type === PT_INTERP);
  }

  /** The value of the first `d_tag` entry of the dynamic section, or null. */
  dynamicEntry(tag: number): number | null {
    const dyn = this.programHeaders.find((p) => p.type === PT_DYNAMIC);
    if (!dyn) return null;
    const d = this.src.read(dyn.offset, dyn.filesz);
    for (let o = 0; o + 16 <= d.length; o += 16) {
      const t = u64(d, o);
      if (t === 0) break;
      if (t === tag) return u64(d, o + 8);
    }
    return null;
  }

  get loads(): ProgramHeader[] {
    return this.programHeaders.filter((p) => p.type === PT_LOAD);
  }

  /** The file offset holding virtual address `vaddr`, or null when no PT_LOAD maps it. */
  vaddrToFileOffset(vaddr: number | bigint): number | null {
    const v = Number(vaddr);
    for (const p of this.programHeaders) {
      if (p.type === PT_LOAD && v >= p.vaddr && v < p.vaddr + p.memsz) return v - p.vaddr + p.offset;
    }
    return null;
  }

  /** The virtual address that file offset `off` is loaded at, or null. */
  fileOffsetToVaddr(off: number | bigint): number | null {
    const o = Number(off);
    for (const p of this.programHeaders) {
      if (p.type === PT_LOAD && o >= p.offset && o < p.offset + Math.max(p.filesz, 1)) return o - p.offset + p.vaddr;
    }
    return null;
  }

  get sections(): SectionHeader[] {
    if (this.sectionsCache) return this.sectionsCache;
    const h = this.src.read(0, 64);
    const shoff = u64(h, 40);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    let shstrndx = h.readUInt16LE(62);
    const out: SectionHeader[] = [];
    if (shoff === 0 || shentsize < 64) return (this.sectionsCache = out);
    // Counts too big for the header live in section 0.
    const first = this.src.read(shoff, 64);
    if (shnum === 0 && first.length === 64) shnum = u64(first, 32);
    if (shstrndx === 0xffff && first.length === 64) shstrndx = first.readUInt32LE(40);
    const sh = this.src.read(shoff, shnum * shentsize);
    const nameOffsets: number[] = [];
    for (let i = 0; (i + 1) * shentsize <= sh.length && i < shnum; i++) {
      const o = i * shentsize;
      nameOffsets.push(sh.readUInt32LE(o));
      out.push({
        index: i,
        name: '',
        type: sh.readUInt32LE(o + 4),
        flags: u64(sh, o + 8),
        addr: u64(sh, o + 16),
        offset: u64(sh, o + 24),
        size: u64(sh, o + 32),
        link: sh.readUInt32LE(o + 40),
        addralign: u64(sh, o + 48),
        entsize: u64(sh, o + 56),
      });
    }
    const strs = out[shstrndx];
    if (strs) {
      const data = this.data(strs);
      out.forEach((s, i) => {
        if (nameOffsets[i] < data.length) s.name = cstr(data, nameOffsets[i]);
      });
    }
    return (this.sectionsCache = out);
  }

  section(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A section's bytes (empty for SHT_NOBITS, e.g. `.bss` or code in a debug-only file). */
  data(s: SectionHeader): Buffer {
    if (s.type === SHT_NOBITS) return Buffer.alloc(0);
    return this.src.read(s.offset, s.size);
  }

  private readSymbols(s: SectionHeader, dynamic: boolean, out: Sym[]): void {
    const strtab = this.sections[s.link];
    if (!strtab) return;
    const data = this.data(s);
    const strs = this.data(strtab);
    const ent = s.entsize || 24;
    for (let o = ent; o + 24 <= data.length; o += ent) {
      const nameOff = data.readUInt32LE(o);
      if (nameOff === 0 || nameOff >= strs.length) continue;
      const info = data[o + 4];
      const name = cstr(strs, nameOff);
      out.push({
        name,
        plain: plainName(name),
        addr: u64(data, o + 8),
        size: u64(data, o + 16),
        type: symType(info & 0xf),
        bind: symBind(info >> 4),
        shndx: data.readUInt16LE(o + 6),
        dynamic,
      });
    }
  }

  /** The symbols of this file alone, without any separate debug file. */
  ownSymbols(): Sym[] {
    const out: Sym[] = [];
    for (const s of this.sections) {
      if (s.type === SHT_SYMTAB) this.readSymbols(s, false, out);
      else if (s.type === SHT_DYNSYM) this.readSymbols(s, true, out);
    }
    const mini = this.miniDebugInfo();
    if (mini) {
      for (const s of mini.sections) if (s.type === SHT_SYMTAB) mini.readSymbols(s, false, out);
    }
    return out;
  }

  /**
   * Every defined symbol of the file, its separate debug file (found by
   * build id or `.gnu_debuglink`) and its `.gnu_debugdata`, without
   * duplicates. The same name at the same address is kept once, preferring
   * the exported entry.
   */
  allSymbols(): Sym[] {
    if (this.allCache) return this.allCache;
    const raw = this.ownSymbols();
    const dbg = this.debugFile();
    if (dbg) raw.push(...dbg.ownSymbols());
    const seen = new Map<string, Sym>();
    for (const s of raw) {
      if (s.shndx === SHN_UNDEF || s.type === 'section' || s.type === 'file') continue;
      const key = `${s.addr}\0${s.name}`;
      const prev = seen.get(key);
      if (!prev || (s.dynamic && !prev.dynamic)) seen.set(key, s);
    }
    return (this.allCache = [...seen.values()]);
  }

  /** Functions (FUNC and IFUNC), sorted by address; aliases at one address are ordered best name first. */
  symbols(): Sym[] {
    if (this.funcsCache) return this.funcsCache;
    const f = this.allSymbols().filter(isCode);
    f.sort((a, b) => a.addr - b.addr || rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return (this.funcsCache = f);
  }

  private byName(): Map<string, Sym[]> {
    if (this.byNameCache) return this.byNameCache;
    const m = new Map<string, Sym[]>();
    const add = (k: string, s: Sym) => {
      const l = m.get(k);
      if (l) {
        if (!l.includes(s)) l.push(s);
      } else m.set(k, [s]);
    };
    for (const s of this.allSymbols()) add(s.name, s);
    for (const s of this.allSymbols()) if (s.plain !== s.name) add(s.plain, s);
    return (this.byNameCache = m);
  }

  /**
   * The symbol called `name`: an exact match first, then one whose versioned
   * name (`malloc@@GLIBC_2.2.5`) has that plain name. Functions win over
   * data; defined symbols only.
   */
  findSymbol(name: string): Sym | undefined {
    const l = this.byName().get(name);
    if (!l) return undefined;
    const score = (s: Sym) => (s.name === name ? 0 : 1) + (isCode(s) ? 0 : 2);
    return l.reduce((best, s) => (score(s) < score(best) ? s : best));
  }

  /** The function containing virtual address `addr`, with the offset into it. */
  symbolize(addr: number | bigint): SymbolHit | null {
    const a = Number(addr);
    const syms = this.symbols();
    let lo = 0;
    let hi = syms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (syms[mid].addr <= a) lo = mid + 1;
      else hi = mid;
    }
    // Functions can nest (a local alias inside a bigger one) so walk back a
    // little rather than trusting the nearest start.
    for (let i = lo - 1, n = 0; i >= 0 && n < 64; i--, n++) {
      let j = i;
      while (j > 0 && syms[j - 1].addr === syms[i].addr) j--;
      for (let k = j; k <= i; k++) {
        const s = syms[k];
        if (a < s.addr + s.size) return { sym: s, offset: a - s.addr };
      }
      i = j;
    }
    return null;
  }

  private notes(): { name: string; type: number; desc: Buffer; section: SectionHeader }[] {
    const out: { name: string; type: number; desc: Buffer; section: SectionHeader }[] = [];
    for (const s of this.sections) {
      if (s.type !== SHT_NOTE) continue;
      for (const n of parseNotes(this.data(s), s.addralign === 8 ? 8 : 4)) out.push({ ...n, section: s });
    }
    return out;
  }

  /** The GNU build id as lowercase hex, or null. */
  get buildId(): string | null {
    if (this.buildIdCache !== undefined) return this.buildIdCache;
    let id: string | null = null;
    for (const n of this.notes()) {
      if (n.name === 'GNU' && n.type === 3) {
        id = n.desc.toString('hex');
        break;
      }
    }
    return (this.buildIdCache = id);
  }

  /** `.gnu_debuglink`: the separate debug file's name and the CRC32 of its contents. */
  get debugLink(): { file: string; crc: number } | null {
    const s = this.section('.gnu_debuglink');
    if (!s) return null;
    const d = this.data(s);
    const file = cstr(d, 0);
    const crcOff = (Buffer.byteLength(file) + 1 + 3) & ~3;
    return { file, crc: crcOff + 4 <= d.length ? d.readUInt32LE(crcOff) : 0 };
  }

  /** The separate debug file holding this file's full symbol table, if one is installed. */
  debugFile(): Elf | null {
    if (this.debugCache !== undefined) return this.debugCache;
    this.debugCache = null;
    if (!this.opts.lookForDebug) return null;
    const link = this.debugLink;
    for (const c of debugFileCandidates(this.path, this.buildId, link)) {
      try {
        const d = openElfUncached(c.path, false);
        // A debug file left behind by an older build would give wrong names.
        const ok = c.by === 'build-id' ? d.buildId === this.buildId
          : this.buildId && d.buildId ? d.buildId === this.buildId
          : link !== null && debugLinkCrc(c.path) === link.crc;
        if (ok) {
          this.debugCache = d;
          break;
        }
      } catch {
        // unreadable candidate: try the next
      }
    }
    return this.debugCache;
  }

  private miniCache?: Elf | null;
  /** `.gnu_debugdata`: an xz-compressed ELF holding the symbols stripped from `.symtab`. */
  miniDebugInfo(): Elf | null {
    if (this.miniCache !== undefined) return this.miniCache;
    this.miniCache = null;
    const s = this.section('.gnu_debugdata');
    if (s) {
      try {
        this.miniCache = new Elf(`${this.path}[.gnu_debugdata]`, new BufferSource(xzDecompress(this.data(s))), {
          lookForDebug: false,
        });
      } catch {
        this.miniCache = null;
      }
    }
    return this.miniCache;
  }

  /**
   * USDT probes from `.note.stapsdt`. `pc` is corrected for the difference
   * between where `.stapsdt.base` was when the note was written and where it
   * is now (the two differ only after prelinking).
   */
  usdtNotes(): UsdtNote[] {
    if (this.notesCache) return this.notesCache;
    const base = this.section('.stapsdt.base');
    const out: UsdtNote[] = [];
    for (const n of this.notes()) {
      if (n.name !== 'stapsdt' || n.type !== 3) continue;
      const note = usdtNoteFrom(n.desc, base ? base.addr : null);
      if (!note) continue;
      note.pcOffset = this.vaddrToFileOffset(note.pc);
      note.semaphoreOffset = note.semaphore ? this.vaddrToFileOffset(note.semaphore) : null;
      out.push(note);
    }
    return (this.notesCache = out);
  }
}

const cache = new Map<string, { key: string; elf: Elf }>();

function openElfUncached(path: string, lookForDebug: boolean): Elf {
  const st = statSync(path);
  if (!st.isFile()) throw new ElfError(path, 'not a regular file');
  return new Elf(path, fileSource(path, st.size, st.ino, st.mtimeMs), { lookForDebug });
}

/**
 * Opens (or returns the cached reader for) the ELF file at `path`. The cache
 * is keyed by device, inode and mtime, so a rebuilt binary is read afresh.
 * Throws ElfError for files that are not 64-bit little-endian ELF, and the
 * fs error (ENOENT, EACCES) for files that cannot be read.
 */
export function openElf(path: string): Elf {
  const st = statSync(path);
  const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
  const hit = cache.get(path);
  if (hit && hit.key === key) return hit.elf;
  if (!st.isFile()) throw new ElfError(path, 'not a regular file');
  const elf = new Elf(path, fileSource(path, st.size, st.ino, st.mtimeMs));
  cache.set(path, { key, elf });
  return elf;
}

/** An ELF image already in memory (e.g. decompressed), not cached. */
export function elfFromBuffer(name: string, buf: Buffer): Elf {
  return new Elf(name, new BufferSource(buf), { lookForDebug: false });
}

/** True if `path` starts with the ELF magic. Never throws. */
export function isElf(path: string): boolean {
  try {
    openElf(path);
    return true;
  } catch {
    return false;
  }
}
