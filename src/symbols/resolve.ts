// The uprobe/USDT attach-point target: bpftrace's rules for turning
// `u:bash:readline`, `u:libc:mal*`, `u:/bin/prog:"ns::f(int)"`,
// `u:/bin/prog:f+8` and `u:/bin/prog:0x401136` into (file, file offset)
// pairs for the uprobe PMU.
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { demangle } from './demangle.js';
import { ElfError, type Elf, openElf, type Sym } from './elf.js';
import type { UsdtNote } from './elfnotes.js';
import { ldCache } from './ldcache.js';
import { isFileMapping, processMaps } from './procmaps.js';

export class ResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResolveError';
  }
}

/** Where shared libraries live when the loader cache does not list them. */
export const STANDARD_LIB_DIRS: readonly string[] = Object.freeze([
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
  '/usr/local/lib',
]);

export interface ResolveOptions {
  /** Restrict to what this process has mapped (`-p PID`). */
  pid?: number;
  /** Search path for bare program names; defaults to $PATH. */
  path?: string;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An ELF a uprobe can attach to: an executable or a shared library. */
function isProbeable(p: string): boolean {
  if (!isFile(p)) return false;
  try {
    const e = openElf(p);
    return e.type === 2 || e.type === 3;
  } catch {
    return false;
  }
}

/** Turns `*`/`?` wildcards into an anchored RegExp; every other character is literal. */
export function wildcardRegExp(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's');
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** Expands a path with wildcards in any component (`/usr/lib/*\/libc.so*`). */
function globPath(pattern: string): string[] {
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let found = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!hasWildcard(part)) {
        next.push(join(dir, part));
        continue;
      }
      const re = wildcardRegExp(part);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(join(dir, n));
    }
    found = next;
  }
  return found.filter(isFile);
}

/** A library name as the loader cache would match it: `libc` -> `libc.so*`, `libc.so.6` exactly. */
function libraryMatcher(name: string): ((soname: string) => boolean) | null {
  if (name.includes('.so')) return (s) => s === name || s.startsWith(`${name}.`);
  if (name.startsWith('lib')) return (s) => s === `${name}.so` || s.startsWith(`${name}.so.`);
  return null;
}

/**
 * Finds a shared library by name: in the process's mappings when a pid is
 * given, else through /etc/ld.so.cache, else in the standard directories.
 * `libc` and `libc.so.6` both find /lib/x86_64-linux-gnu/libc.so.6.
 */
export function resolveLibrary(name: string, pid?: number): string | null {
  if (name.includes('/')) return isFile(name) ? name : null;
  const match = libraryMatcher(name);
  if (!match) return null;
  if (pid !== undefined) {
    const maps = processMaps(pid);
    if (!maps) return null;
    for (const m of maps) {
      if (isFileMapping(m) && match(basename(m.path))) {
        const inRoot = `/proc/${pid}/root${m.path}`;
        return isFile(m.path) ? m.path : isFile(inRoot) ? inRoot : null;
      }
    }
    return null;
  }
  for (const e of ldCache()) if (match(e.soname) && isFile(e.path)) return e.path;
  for (const dir of STANDARD_LIB_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    // Shortest first: libfoo.so.1 rather than libfoo.so.1.2.3 when both exist.
    const hit = names.filter(match).sort((a, b) => a.length - b.length || (a < b ? -1 : 1))[0];
    if (hit && isFile(join(dir, hit))) return join(dir, hit);
  }
  return null;
}

/**
 * The files a uprobe target names, in bpftrace's order of preference:
 * a path (wildcards expanded), else a program on PATH, else a library. With
 * a pid, a relative name is looked up among the process's own mappings and
 * paths are seen through /proc/PID/root. Files reached through several
 * names (/bin -> /usr/bin) are listed once. Empty when nothing matches.
 */
export function resolveBinary(target: string, opts: ResolveOptions = {}): string[] {
  let candidates: string[] = [];
  if (target.includes('/')) {
    candidates = hasWildcard(target) ? globPath(target) : [target];
    if (opts.pid !== undefined) {
      candidates = candidates.map((p) => (isFile(p) || !p.startsWith('/') ? p : `/proc/${opts.pid}/root${p}`));
    }
  } else {
    if (opts.pid !== undefined) {
      const lib = resolveLibrary(target, opts.pid);
      if (lib) candidates.push(lib);
      else {
        try {
          const exe = realpathSync(`/proc/${opts.pid}/exe`);
          if (basename(exe) === target) candidates.push(exe);
        } catch {
          // process gone
        }
      }
    }
    if (candidates.length === 0) {
      for (const dir of (opts.path ?? process.env.PATH ?? '').split(':')) {
        if (!dir) continue;
        const p = join(dir, target);
        if (isFile(p) && isExecutable(p)) candidates.push(p);
      }
    }
    if (candidates.length === 0) {
      const lib = resolveLibrary(target);
      if (lib) candidates.push(lib);
    }
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of candidates) {
    if (!isProbeable(p)) continue;
    let real = p;
    try {
      real = realpathSync(p);
    } catch {
      // keep p
    }
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(p);
  }
  return out;
}

/** The function part of a uprobe: a name, a wildcard, `name+offset`, or an address. */
export type FuncSpec =
  | { kind: 'name'; name: string }
  | { kind: 'wildcard'; pattern: string }
  | { kind: 'offset'; name: string; offset: number }
  | { kind: 'address'; addr: number };

/** Parses the function part after the target (`readline`, `read*`, `main+16`, `0x401136`); quotes already removed. */
export function parseFuncSpec(spec: string): FuncSpec {
  if (/^0x[0-9a-f]+$/i.test(spec) || /^\d+$/.test(spec)) return { kind: 'address', addr: Number(spec) };
  const m = /^(.+)\+(0x[0-9a-f]+|\d+)$/i.exec(spec);
  if (m && !hasWildcard(m[1])) return { kind: 'offset', name: m[1], offset: Number(m[2]) };
  if (hasWildcard(spec)) return { kind: 'wildcard', pattern: spec };
  return { kind: 'name', name: spec };
}

/** bpftrace leaves out GCC's partial-inlining fragments (`foo.part.0`): probing half a function misleads. */
function listable(s: Sym): boolean {
  return !/\.part\.\d/.test(s.name);
}

/** Function names of an ELF as `bpftrace -l 'uprobe:PATH:*'` lists them: sorted, unique, mangled. */
export function listFunctions(path: string): string[] {
  const names = new Set<string>();
  for (const s of openElf(path).symbols()) if (listable(s)) names.add(s.name);
  return [...names].sort();
}

/** The ways a C++ symbol can be named in a probe: mangled, demangled, and demangled without its parameters. */
function spellings(name: string): string[] {
  const out = [name];
  const d = name.startsWith('_Z') ? demangle(name) : null;
  if (d) {
    out.push(d);
    const paren = d.indexOf('(');
    if (paren > 0) out.push(d.slice(0, paren));
  }
  return out;
}

/**
 * Function names (as stored, i.e. mangled) matching `pattern`, which may
 * contain wildcards and may be written demangled (`ns::Class::method`,
 * `ns::Class::method(int) const`, `ns::*`), as bpftrace accepts.
 */
export function matchFunctions(path: string, pattern: string): string[] {
  const re = wildcardRegExp(pattern);
  return listFunctions(path).filter((n) => spellings(n).some((s) => re.test(s)));
}

export interface UprobeTarget {
  path: string;
  /** Symbol name as stored; null for an address probe. */
  name: string | null;
  /** Offset into the function (`func+8`). */
  funcOffset: number;
  /** Link-time virtual address of the probe point. */
  vaddr: number;
  /** File offset of the probe point: what the uprobe PMU attaches to. */
  offset: number;
}

function toTarget(path: string, elf: Elf, name: string | null, vaddr: number, funcOffset: number): UprobeTarget {
  const offset = elf.vaddrToFileOffset(vaddr);
  if (offset === null) throw new ResolveError(`${path}: address 0x${vaddr.toString(16)} is not in any loadable segment`);
  return { path, name, funcOffset, vaddr, offset };
}

function findFunction(elf: Elf, path: string, name: string): Sym {
  const s = elf.findSymbol(name);
  if (s && (s.type === 'func' || s.type === 'ifunc')) return s;
  // A demangled spelling names exactly one function only if it is unambiguous.
  const hits = matchFunctions(path, name);
  if (hits.length === 1) {
    const h = elf.findSymbol(hits[0]);
    if (h) return h;
  }
  if (hits.length > 1) throw new ResolveError(`${path}: '${name}' matches ${hits.length} functions (${hits.slice(0, 3).join(', ')}...)`);
  throw new ResolveError(`${path}: no function '${name}'`);
}

/**
 * Resolves one function spec in one file to uprobe attach points (several
 * for a wildcard). `func+off` must stay inside the function unless `unsafe`.
 */
export function resolveUprobe(path: string, func: string | FuncSpec, opts: { unsafe?: boolean } = {}): UprobeTarget[] {
  let elf: Elf;
  try {
    elf = openElf(path);
  } catch (e) {
    throw new ResolveError(e instanceof ElfError ? e.message : `${path}: ${(e as Error).message}`);
  }
  const spec = typeof func === 'string' ? parseFuncSpec(func) : func;
  switch (spec.kind) {
    case 'address':
      return [toTarget(path, elf, null, spec.addr, 0)];
    case 'name': {
      const s = findFunction(elf, path, spec.name);
      return [toTarget(path, elf, s.name, s.addr, 0)];
    }
    case 'offset': {
      const s = findFunction(elf, path, spec.name);
      if (!opts.unsafe && s.size > 0 && spec.offset >= s.size) {
        throw new ResolveError(`${path}: offset ${spec.offset} is beyond the end of ${s.name} (size ${s.size})`);
      }
      return [toTarget(path, elf, s.name, s.addr + spec.offset, spec.offset)];
    }
    case 'wildcard': {
      const out: UprobeTarget[] = [];
      for (const n of matchFunctions(path, spec.pattern)) {
        const s = elf.findSymbol(n);
        if (s) out.push(toTarget(path, elf, n, s.addr, 0));
      }
      return out;
    }
  }
}

/** `usdt:TARGET:PROVIDER:NAME` with wildcards in provider and name: matching notes per file. */
export function resolveUsdt(
  target: string,
  provider: string,
  name: string,
  opts: ResolveOptions = {},
): { path: string; note: UsdtNote }[] {
  const pr = wildcardRegExp(provider || '*');
  const nr = wildcardRegExp(name || '*');
  const out: { path: string; note: UsdtNote }[] = [];
  for (const path of resolveBinary(target, opts)) {
    for (const note of openElf(path).usdtNotes()) {
      if (pr.test(note.provider) && nr.test(note.name)) out.push({ path, note });
    }
  }
  return out;
}

/** `bpftrace -l 'usdt:PATH'` lines' tail: `provider:name`, sorted and unique. */
export function listUsdt(path: string): string[] {
  return [...new Set(openElf(path).usdtNotes().map((n) => `${n.provider}:${n.name}`))].sort();
}

