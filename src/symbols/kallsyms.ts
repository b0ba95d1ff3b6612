// Kernel symbols from /proc/kallsyms, read once on first use. Addresses are
// above 2^53, so they are kept as two 32-bit halves and handed out as bigint.
// (They read as zero unless kptr_restrict allows us to see them; as root it does.)
import { closeSync, openSync, readSync } from 'node:fs';

export interface KernelSymbol {
  name: string;
  /** addr - start of the symbol */
  offset: number;
  /** Module name for symbols of loadable modules (and `bpf` for BPF programs). */
  module?: string;
}

export interface KernelFunction {
  name: string;
  module?: string;
  addr: bigint;
}

const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

export class Kallsyms {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly names: string[];
  private readonly types: Uint8Array;
  private readonly mods: Uint16Array;
  private readonly modNames: string[] = [''];
  private byName?: Map<string, number>;

  /** Parses /proc/kallsyms contents (text or the raw bytes, which is faster). */
  constructor(data: string | Buffer) {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    // Names are sliced from one decoded string: far cheaper than a decode per symbol.
    const text = typeof data === 'string' ? data : data.toString('latin1');
    let cap = 1;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) cap++;
    let hi = new Uint32Array(cap);
    let lo = new Uint32Array(cap);
    let types = new Uint8Array(cap);
    let mods = new Uint16Array(cap);
    let names = new Array<string>(cap);
    const modIndex = new Map<string, number>();
    let n = 0;
    let sorted = true;
    let pos = 0;
    const len = buf.length;
    // Byte-level: this file has ~10^5 lines and is read on every start that needs kernel symbols.
    while (pos < len) {
      let nl = buf.indexOf(10, pos);
      if (nl < 0) nl = len;
      // "ffffffff81000000 T _stext" or "... t name\t[module]"
      let h = 0;
      let l = 0;
      let p = pos;
      for (; p < nl; p++) {
        const v = HEX[buf[p]];
        if (v === 255) break;
        h = ((h << 4) | (l >>> 28)) >>> 0;
        l = ((l << 4) | v) >>> 0;
      }
      if (buf[p] === 32 && p + 3 < nl) {
        const type = buf[p + 1];
        const nameStart = p + 3;
        let nameEnd = nameStart;
        while (nameEnd < nl && buf[nameEnd] !== 9) nameEnd++;
        let mod = 0;
        if (nameEnd < nl) {
          const m = buf.toString('latin1', nameEnd + 1, nl).replace(/^\[|\]$/g, '');
          mod = modIndex.get(m) ?? 0;
          if (!mod) {
            mod = this.modNames.push(m) - 1;
            modIndex.set(m, mod);
          }
        }
        // Absolute symbols are not code locations (and per-cpu offsets are zero-based).
        const absolute = type === 0x61 || type === 0x41;
        if ((h !== 0 || l !== 0) && !absolute) {
          if (n > 0 && (hi[n - 1] > h || (hi[n - 1] === h && lo[n - 1] > l))) sorted = false;
          hi[n] = h;
          lo[n] = l;
          types[n] = type;
          mods[n] = mod;
          names[n] = text.slice(nameStart, nameEnd);
          n++;
        }
      }
      pos = nl + 1;
    }
    if (!sorted) {
      // /proc/kallsyms is sorted for vmlinux; module and BPF program symbols come after, in any order.
      const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b]);
      const h2 = new Uint32Array(n);
      const l2 = new Uint32Array(n);
      const t2 = new Uint8Array(n);
      const m2 = new Uint16Array(n);
      const n2 = new Array<string>(n);
      idx.forEach((from, to) => {
        h2[to] = hi[from];
        l2[to] = lo[from];
        t2[to] = types[from];
        m2[to] = mods[from];
        n2[to] = names[from];
      });
      hi = h2;
      lo = l2;
      types = t2;
      mods = m2;
      names = n2;
    }
    this.hi = hi.subarray(0, n);
    this.lo = lo.subarray(0, n);
    this.types = types.subarray(0, n);
    this.mods = mods.subarray(0, n);
    names.length = n;
    this.names = names;
  }

  get size(): number {
    return this.names.length;
  }

  /** False when every address read as zero (not root, or kptr_restrict). */
  get available(): boolean {
    return this.names.length > 0;
  }

  private addrAt(i: number): bigint {
    return (BigInt(this.hi[i]) << 32n) | BigInt(this.lo[i]);
  }

  /** The symbol at or before `addr`; null below the first symbol. */
  lookup(addr: bigint): KernelSymbol | null {
    const hi = Number(addr >> 32n);
    const lo = Number(addr & 0xffffffffn);
    let a = 0;
    let b = this.names.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.hi[mid] < hi || (this.hi[mid] === hi && this.lo[mid] <= lo)) a = mid + 1;
      else b = mid;
    }
    let i = a - 1;
    if (i < 0) return null;
    // Aliases share an address: take the first function listed there, as the file orders them.
    let j = i;
    while (j > 0 && this.hi[j - 1] === this.hi[i] && this.lo[j - 1] === this.lo[i]) j--;
    for (let k = j; k <= i; k++) {
      const t = this.types[k] | 0x20;
      if (t === 0x74 || t === 0x77) {
        i = k;
        break;
      }
    }
    const offset = (hi - this.hi[i]) * 0x1_0000_0000 + (lo - this.lo[i]);
    const mod = this.mods[i];
    return mod ? { name: this.names[i], offset, module: this.modNames[mod] } : { name: this.names[i], offset };
  }

  /** The address of `name` (the first one if several static symbols share it), or 0n. */
  address(name: string): bigint {
    if (!this.byName) {
      this.byName = new Map();
      for (let i = 0; i < this.names.length; i++) if (!this.byName.has(this.names[i])) this.byName.set(this.names[i], i);
    }
    const i = this.byName.get(name);
    return i === undefined ? 0n : this.addrAt(i);
  }

  /**
   * Functions (kallsyms types t/T/w/W), in address order. Compiler-made
   * padding symbols (`__pfx_`, `__cfi_`) and BPF programs are left out: they
   * cannot be probed by name.
   */
  functions(): KernelFunction[] {
    const out: KernelFunction[] = [];
    for (let i = 0; i < this.names.length; i++) {
      const t = this.types[i] | 0x20;
      if (t !== 0x74 && t !== 0x77) continue;
      const name = this.names[i];
      if (name.startsWith('__pfx_') || name.startsWith('__cfi_')) continue;
      const mod = this.modNames[this.mods[i]];
      if (mod === 'bpf' || mod === '__builtin__ftrace' || mod === '__builtin__kprobes') continue;
      out.push(mod ? { name, module: mod, addr: this.addrAt(i) } : { name, addr: this.addrAt(i) });
    }
    return out;
  }
}

let loaded: Kallsyms | undefined;

/** procfs files report size 0, so read until EOF in large chunks. */
function readProcFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let chunk = Buffer.allocUnsafe(1 << 20);
    let used = 0;
    for (;;) {
      if (used === chunk.length) {
        chunks.push(chunk);
        chunk = Buffer.allocUnsafe(1 << 20);
        used = 0;
      }
      const got = readSync(fd, chunk, used, chunk.length - used, null);
      if (got <= 0) break;
      used += got;
    }
    chunks.push(chunk.subarray(0, used));
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** The kernel's symbol table, parsed on first use. */
export function kallsyms(): Kallsyms {
  if (!loaded) {
    let data: Buffer = Buffer.alloc(0);
    try {
      data = readProcFile('/proc/kallsyms');
    } catch {
      // no procfs: an empty table, every lookup misses
    }
    loaded = new Kallsyms(data);
  }
  return loaded;
}

/** Forgets the table so the next lookup re-reads it (modules or BPF programs loaded since). */
export function reloadKallsyms(): void {
  loaded = undefined;
}

/** The kernel symbol holding `addr`: name, offset into it, and module if any. */
export function ksym(addr: bigint | number): KernelSymbol | null {
  return kallsyms().lookup(BigInt(addr));
}

/** The address of kernel symbol `name`, or 0n when unknown (as bpftrace's `kaddr` errors on it). */
export function kaddr(name: string): bigint {
  return kallsyms().address(name);
}

/** Kernel function names with their modules, for `kprobe` listing and wildcard expansion. */
export function kernelFunctions(): KernelFunction[] {
  return kallsyms().functions();
}

/**
 * bpftrace's text for a kernel address: `func` (`ksym()`), `func+off` in
 * stacks, and the address in hex (`0xffffffff...`) when no symbol covers it.
 */
export function formatKsym(addr: bigint | number, opts: { offset?: boolean; module?: boolean } = {}): string {
  const a = BigInt(addr);
  const s = ksym(a);
  if (!s) return `0x${a.toString(16)}`;
  let out = opts.offset ? `${s.name}+${s.offset}` : s.name;
  if (opts.module && s.module) out += ` [${s.module}]`;
  return out;
}
