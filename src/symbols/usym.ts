// User-space addresses to the text bpftrace prints: `func+off` in ustack
// frames, `func` for usym(), the address in hex when nothing is known.
// File-backed code is looked up in the ELF's symbols (load bias removed);
// JIT code in anonymous memory in the process's perf map.
import { demangle } from './demangle.js';
import { perfMap } from './perfmap.js';
import { isFileMapping } from './procmaps.js';
import { resolveUserAddress } from './useraddr.js';

export interface UserSymbol {
  /** As bpftrace shows it: demangled when it is a C++ name. */
  name: string;
  /** As stored in the symbol table or perf map. */
  rawName: string;
  /** Bytes past the start of the function. */
  offset: number;
  /** The file the code came from (the mapping's path), or the perf map's path. */
  module: string;
}

export interface UserFormatOptions {
  /** Append `+offset` (stack frames). */
  offset?: boolean;
  /** Append ` (module)` (perf-style stacks). */
  module?: boolean;
  /** Demangle C++ names; on by default, as bpftrace does. */
  demangle?: boolean;
}

const demangled = new Map<string, string>();

function pretty(raw: string): string {
  if (!raw.startsWith('_Z')) return raw;
  let d = demangled.get(raw);
  if (d === undefined) {
    d = demangle(raw) ?? raw;
    if (demangled.size > 100_000) demangled.clear();
    demangled.set(raw, d);
  }
  return d;
}

/** The function holding `addr` in process `pid`, or null. */
export function resolveUser(pid: number, addr: bigint | number): UserSymbol | null {
  const a = Number(addr);
  if (!Number.isSafeInteger(a) || a <= 0) return null;
  const r = resolveUserAddress(pid, a);
  if (r?.symbol) {
    const raw = r.symbol.sym.name;
    return { name: pretty(raw), rawName: raw, offset: r.symbol.offset, module: r.mapping.path };
  }
  // JIT code lives in anonymous executable memory; so does code of a process we never saw mapped.
  if (!r || !isFileMapping(r.mapping)) {
    const pm = perfMap(pid);
    const e = pm?.lookup(a);
    if (e) return { name: pretty(e.name), rawName: e.name, offset: a - e.start, module: `/tmp/perf-${pid}.map` };
  }
  return null;
}

/**
 * bpftrace's text for a user address: `func` (usym), `func+off` with
 * `{ offset: true }` (ustack), and `0x7f...` when no symbol covers it.
 */
export function symbolizeUser(pid: number, addr: bigint | number, opts: UserFormatOptions = {}): string {
  const s = resolveUser(pid, addr);
  if (!s) return `0x${BigInt(addr).toString(16)}`;
  let out = opts.demangle === false ? s.rawName : s.name;
  if (opts.offset) out += `+${s.offset}`;
  if (opts.module) out += ` (${s.module})`;
  return out;
}
