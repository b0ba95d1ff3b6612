// Kernel symbols from /proc/kallsyms, read once on first use. Addresses are
// above 2^53, so they are kept as two 32-bit halves and handed out as bigint.
// (They read as zero unless kptr_restrict allows us to see them; as root it does.)
import { readFileSync } from 'node:fs';

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

export class Kallsyms {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly names: string[];
  private readonly types: Uint8Array;
  private readonly mods: Uint16Array;
  private readonly modNames: string[] = [''];
  private byName?: Map<string, number>;

  constructor(text: string) {
    const rows: { hi: number; lo: number; name: string; type: number; mod: number }[] = [];
    const modIndex = new Map<string, number>();
    for (const line of text.split('\n')) {
      // "ffffffff81000000 T _stext" or "... t name\t[module]"
      const sp1 = line.indexOf(' ');
      if (sp1 <= 0 || sp1 + 3 >= line.length) continue;
      const hi = sp1 > 8 ? parseInt(line.slice(0, sp1 - 8), 16) : 0;
      const lo = parseInt(line.slice(Math.max(0, sp1 - 8), sp1), 16);
      const type = line.charCodeAt(sp1 + 1);
      const tab = line.indexOf('\t', sp1 + 3);
      const name = tab < 0 ? line.slice(sp1 + 3) : line.slice(sp1 + 3, tab);
      let mod = 0;
      if (tab >= 0) {
        const m = line.slice(tab + 1).replace(/^\[|\]$/g, '');
        mod = modIndex.get(m) ?? 0;
        if (!mod) {
          mod = this.modNames.push(m) - 1;
          modIndex.set(m, mod);
        }
      }
      // Absolute symbols are not code locations (and per-cpu offsets are zero-based).
      const absolute = type === 0x61 || type === 0x41;
      if ((hi !== 0 || lo !== 0) && !absolute) rows.push({ hi, lo, name, type, mod });
    }
    // /proc/kallsyms is nearly sorted already (modules and BPF programs are not).
    let sorted = true;
    for (let i = 1; i < rows.length && sorted; i++) {
      sorted = rows[i - 1].hi < rows[i].hi || (rows[i - 1].hi === rows[i].hi && rows[i - 1].lo <= rows[i].lo);
    }
    if (!sorted) rows.sort((a, b) => a.hi - b.hi || a.lo - b.lo);
    const n = rows.length;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.types = new Uint8Array(n);
    this.mods = new Uint16Array(n);
    this.names = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      this.hi[i] = r.hi;
      this.lo[i] = r.lo;
      this.types[i] = r.type;
      this.mods[i] = r.mod;
      this.names[i] = r.name;
    }
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
    const i = a - 1;
    if (i < 0) return null;
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

/** The kernel's symbol table, parsed on first use. */
export function kallsyms(): Kallsyms {
  if (!loaded) {
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch {
      // no procfs: an empty table, every lookup misses
    }
    loaded = new Kallsyms(text);
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
