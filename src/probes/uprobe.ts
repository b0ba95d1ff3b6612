// uprobe:BINARY:FUNC and uretprobe:BINARY:FUNC. A uprobe belongs to a file,
// not a process: the kernel takes the file and an offset in it, so every
// function is turned into a file offset here, and the probe is created
// through the uprobe PMU (it disappears with its fd). BINARY is a path, a
// program on PATH, a library name the loader would find (`libc`), or a glob;
// FUNC is a symbol, a glob, `sym+off`, an address, or a C++ name.
import { childProcess } from '../lazy.js';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AttachPoint } from '../lang/ast.js';
import { splitAttachPoint } from '../lang/attach.js';
import { openUprobe } from '../bpf/perf.js';
import { attachPerfEvent, attachUprobeMulti } from '../bpf/link.js';
import { AttachType, ProgType } from '../bpf/program.js';
import { hasUprobeMulti } from '../bpf/features.js';
import { openElf, type Elf, type Sym } from '../symbols/elf.js';
import { ldCache } from '../symbols/ldcache.js';
import { findExecutable } from '../symbols/path.js';
import { isFileMapping, processMaps } from '../symbols/procmaps.js';
import { demangle, isMangled } from '../symbols/demangle.js';
import { ARG_OFFSETS, RETVAL_OFFSET, SP_OFFSET } from '../symbols/regs.js';
import { dwarfOf, paramListing, type Dwarf } from '../symbols/dwarf.js';
import { uprobeArgs, type UprobeArgs } from './uprobe-args.js';
import {
  globToRegExp, hasWildcard, ProbeError, type ArgRead, type CtxRead, type ExpandEnv, type ListEnv, type Provider, type ProbeTarget,
} from './provider.js';

/** A binary as a probe names it and as the kernel opens it. */
export interface UserBinary {
  /** The path in probe names: as written when it had a `/`, else the resolved path. */
  shown: string;
  /** A path that opens the same file from here (through /proc/PID/root when -p is in another mount namespace). */
  file: string;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * A library by the short name people write (`libc`, `c`, `libpthread`):
 * what /proc/PID/maps has mapped when -p is given, else the loader's cache.
 */
export function findLibrary(name: string, pid?: number): string | undefined {
  const stem = name.startsWith('lib') ? name : `lib${name}`;
  const fits = (base: string) => base === name || base.startsWith(`${stem}.so`) || base.startsWith(`${stem}-`);
  if (pid !== undefined) {
    for (const m of processMaps(pid) ?? []) if (isFileMapping(m) && fits(basename(m.path))) return m.path;
  }
  for (const e of ldCache()) if (fits(e.soname)) return e.path;
  return undefined;
}

/** Expands `*` and `?` in the components of an absolute or relative path. */
function globPaths(pattern: string): string[] {
  const abs = pattern.startsWith('/');
  const comps = pattern.split('/').filter((c) => c !== '');
  let found = [abs ? '/' : '.'];
  for (const [i, c] of comps.entries()) {
    const last = i === comps.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      if (!hasWildcard(c)) {
        next.push(join(dir, c));
        continue;
      }
      const re = globToRegExp(c);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(join(dir, n));
    }
    found = last ? next.filter(isFile) : next;
  }
  return abs ? found : found.map((p) => (pattern.startsWith('./') ? `./${p}` : p));
}

/** Through /proc/PID/root when the process sees another file at `path` than we do. */
function fileForPid(path: string, pid: number | undefined): string {
  if (pid === undefined || !path.startsWith('/')) return path;
  const inRoot = `/proc/${pid}/root${path}`;
  try {
    const a = statSync(inRoot);
    const b = existsSync(path) ? statSync(path) : undefined;
    if (!b || a.ino !== b.ino || a.dev !== b.dev) return inRoot;
  } catch {
    // not visible through the process root: use the path as it is
  }
  return path;
}

/**
 * The binaries an attach point's BINARY part names. `kind` words errors
 * (`uprobe`, `usdt`). Throws ProbeError when a named binary does not exist.
 */
export function resolveBinaries(target: string, pid: number | undefined, kind: string): UserBinary[] {
  if (hasWildcard(target)) {
    let paths: string[];
    if (pid !== undefined) {
      // A pattern against what the process has mapped: its binary and libraries.
      const re = globToRegExp(target);
      const mapped = [...new Set((processMaps(pid) ?? []).filter((m) => isFileMapping(m) && m.perms.includes('x')).map((m) => m.path))];
      paths = mapped.filter((p) => re.test(target.includes('/') ? p : basename(p)));
    } else if (target.includes('/')) {
      paths = globPaths(target);
    } else {
      throw new ProbeError(`${kind} target '${target}' has a wildcard but no directory: give a path pattern or -p PID`);
    }
    return paths.map((p) => ({ shown: p, file: fileForPid(p, pid) }));
  }
  if (target.includes('/')) {
    const file = fileForPid(target, pid);
    if (!isFile(file)) throw new ProbeError(`${kind} target file '${target}' does not exist or is not executable`);
    return [{ shown: target, file }];
  }
  const onPath = findExecutable(target, (process.env.PATH ?? '').split(':').filter(Boolean));
  if (onPath) return [{ shown: onPath, file: fileForPid(onPath, pid) }];
  const lib = findLibrary(target, pid);
  if (lib) return [{ shown: lib, file: fileForPid(lib, pid) }];
  throw new ProbeError(`${kind} target '${target}' does not exist or is not executable`, `HINT: give the full path, e.g. ${kind}:/usr/bin/${target}:...`);
}

/** `ns::f(int, char*) const` -> `ns::f`: the name without its parameter list. */
export function withoutParams(demangled: string): string {
  let s = demangled.replace(/\s*(const|volatile|&&|&|noexcept)\s*$/g, '');
  if (!s.endsWith(')')) return s;
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] === ')') depth++;
    else if (s[i] === '(' && --depth === 0) {
      s = s.slice(0, i);
      break;
    }
  }
  return s;
}

export interface SymbolMatch {
  sym: Sym;
  /** The name the probe shows: the symbol, or its demangled form under `cpp:`. */
  name: string;
}

/**
 * Functions of `elf` matching `pattern` (a name or a glob). C++ symbols also
 * match by demangled name, without the parameter list unless the pattern has
 * one. Aliases at one address count once, under their best name, unless
 * `aliases` asks for every name (listing).
 */
export function matchFunctions(elf: Elf, pattern: string, cpp: boolean, aliases = false): SymbolMatch[] {
  const re = globToRegExp(pattern);
  const withArgs = pattern.includes('(');
  const byAddr = new Map<number | string, SymbolMatch>();
  for (const s of elf.symbols()) {
    // GCC's split-off function parts cannot be probed meaningfully.
    if (s.name.includes('.part.') || (!aliases && byAddr.has(s.addr))) continue;
    let name: string | undefined;
    // `.symtab` names made by `.symver` (glibc's `memcpy@GLIBC_2.2.5`) are
    // listed and matched as written, as bpftrace does; `.dynsym` names never
    // carry the version in the name itself.
    const own = !s.dynamic && s.name !== s.plain ? s.name : s.plain;
    if (!cpp && re.test(own)) name = own;
    else if (isMangled(s.plain)) {
      const d = demangle(s.plain);
      if (d) {
        const shown = withArgs ? d : withoutParams(d);
        if (re.test(shown)) name = cpp ? shown : s.plain;
      }
    }
    if (name !== undefined) byAddr.set(aliases ? name : s.addr, { sym: s, name });
  }
  return [...byAddr.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

let objdumpMissing = false;

/**
 * Whether `vaddr` starts an instruction of the function at [start, end),
 * by disassembling it with binutils' objdump; undefined when objdump is
 * not installed. A breakpoint in the middle of an instruction would corrupt
 * the traced program, so an unverifiable offset needs --unsafe.
 */
export function isInstructionStart(file: string, start: number, end: number, vaddr: number): boolean | undefined {
  if (objdumpMissing) return undefined;
  let text: string;
  try {
    text = childProcess().execFileSync('objdump', ['-d', '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, `--stop-address=0x${end.toString(16)}`, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      objdumpMissing = true;
      return undefined;
    }
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t/.exec(line);
    if (m && parseInt(m[1], 16) === vaddr) return true;
  }
  return false;
}

/** Throws unless `vaddr` (inside `sym`) is an instruction boundary, or --unsafe says not to care. */
function checkBoundary(kind: string, what: string, file: string, sym: Sym | null, vaddr: number, unsafe: boolean): void {
  if (unsafe) return;
  if (!sym) throw new ProbeError(`Could not add ${kind} at ${what}: the address is not inside a known function`, 'HINT: use --unsafe to attach anyway');
  if (vaddr === sym.addr) return;
  const ok = isInstructionStart(file, sym.addr, sym.addr + Math.max(sym.size, vaddr - sym.addr + 1), vaddr);
  if (ok === undefined) {
    throw new ProbeError(`Can't check if ${kind} is in proper place (objdump is not installed): ${what}`, 'HINT: use --unsafe to attach anyway');
  }
  if (!ok) throw new ProbeError(`Could not add ${kind} into middle of instruction: ${what}`, 'HINT: use --unsafe to attach anyway');
}

interface UprobeSpec {
  target: string | null;
  cpp: boolean;
  func: string;
}

/** [BINARY, FUNC], [BINARY, 'cpp', FUNC], or [FUNC] with -p; unquoted `ns::f` arrives as several parts. */
function parseSpec(parts: string[], kind: string): UprobeSpec {
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) throw new ProbeError(`${kind} probe type requires 2 arguments`);
  if (parts.length === 1) return { target: null, cpp: false, func: parts[0] };
  const lang = parts.length >= 3 && (parts[1] === 'cpp' || parts[1] === 'c') ? parts[1] : null;
  const func = parts.slice(lang ? 2 : 1).join(':');
  if (parts[0] === '' || func === '') throw new ProbeError(`${kind} probe type requires 2 arguments`);
  return { target: parts[0], cpp: lang === 'cpp', func };
}

function exePath(pid: number, kind: string): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    throw new ProbeError(`${kind}: cannot read the binary of process ${pid} (/proc/${pid}/exe)`);
  }
}

const ADDR_RE = /^(0x[0-9a-f]+|\d+)$/i;
const OFFSET_RE = /^(.+?)\+(0x[0-9a-f]+|\d+)$/i;

interface Location {
  /** The probe name's last part(s). */
  label: string;
  func: string;
  /** File offset the uprobe goes at. */
  offset: number;
  /** The function's symbol address, when the probe names a function (its DWARF is found from it). */
  addr?: number;
}

function openBinary(bin: UserBinary, kind: string): Elf {
  try {
    return openElf(bin.file);
  } catch (e) {
    throw new ProbeError(`${kind} target '${bin.shown}' cannot be read as an ELF file: ${(e as Error).message}`);
  }
}

function fileOffset(elf: Elf, vaddr: number, kind: string, what: string): number {
  const off = elf.vaddrToFileOffset(vaddr);
  if (off === null) throw new ProbeError(`Could not add ${kind} at ${what}: no loadable segment holds address 0x${vaddr.toString(16)}`);
  return off;
}

/** Where in `bin` the FUNC part points: one location per matching function. */
function locate(bin: UserBinary, spec: UprobeSpec, kind: string, unsafe: boolean): Location[] {
  const elf = openBinary(bin, kind);
  const lang = spec.cpp ? 'cpp:' : '';
  if (ADDR_RE.test(spec.func) && !spec.cpp) {
    const vaddr = Number(BigInt(spec.func));
    const what = `${bin.shown}:${spec.func}`;
    const hit = elf.symbolize(vaddr);
    checkBoundary(kind, what, bin.file, hit?.sym ?? null, vaddr, unsafe);
    return [{ label: spec.func, func: hit ? hit.sym.plain : spec.func, offset: fileOffset(elf, vaddr, kind, what) }];
  }
  const om = OFFSET_RE.exec(spec.func);
  if (om && !hasWildcard(spec.func)) {
    const [, name, offText] = om;
    const off = Number(BigInt(offText));
    const m = exactFunction(elf, name, spec.cpp) ?? notFound(bin, name);
    const what = `${bin.shown}:${name}+${offText}`;
    if (m.sym.size && off >= m.sym.size) throw new ProbeError(`Offset outside the function bounds ('${name}' size is ${m.sym.size})`);
    checkBoundary(kind, what, bin.file, m.sym, m.sym.addr + off, unsafe);
    return [{ label: `${lang}${m.name}+${offText}`, func: m.name, offset: fileOffset(elf, m.sym.addr + off, kind, what), addr: m.sym.addr }];
  }
  if (hasWildcard(spec.func)) {
    return matchFunctions(elf, spec.func, spec.cpp).map((m) => ({
      label: `${lang}${m.name}`,
      func: m.name,
      offset: fileOffset(elf, m.sym.addr, kind, `${bin.shown}:${m.name}`),
      addr: m.sym.addr,
    }));
  }
  const m = exactFunction(elf, spec.func, spec.cpp) ?? notFound(bin, spec.func);
  return [{ label: `${lang}${m.name}`, func: m.name, offset: fileOffset(elf, m.sym.addr, kind, `${bin.shown}:${m.name}`), addr: m.sym.addr }];
}

function exactFunction(elf: Elf, name: string, cpp: boolean): SymbolMatch | undefined {
  if (!cpp) {
    const s = elf.findSymbol(name);
    if (s && (s.type === 'func' || s.type === 'ifunc')) return { sym: s, name: s.plain };
  }
  // `ns::f` (or `ns::f(int)`) names a C++ function by its demangled name.
  const ms = matchFunctions(elf, name, true);
  if (ms.length === 0) return undefined;
  return cpp ? ms[0] : { sym: ms[0].sym, name: ms[0].sym.plain };
}

function notFound(bin: UserBinary, name: string): never {
  throw new ProbeError(`Could not resolve symbol: ${bin.shown}:${name}`);
}

const ctxArg = (n: number): CtxRead | undefined => {
  const off = ARG_OFFSETS[n];
  return off === undefined ? undefined : { kind: 'ctx', off, size: 8, signed: false };
};

/**
 * System V arguments at function entry: six registers, then the stack above
 * the return address (arg6 at sp+8). `user` says which memory the stack is.
 */
export function entryArgRead(user: boolean): (n: number) => ArgRead | undefined {
  return (n) => {
    if (!Number.isInteger(n) || n < 0) return undefined;
    const r = ctxArg(n);
    if (r) return r;
    return { kind: 'mem', terms: [{ off: SP_OFFSET, scale: 1 }], disp: BigInt(8 * (n - 5)), size: 8, signed: false, user };
  };
}

export const RETVAL_READ: CtxRead = { kind: 'ctx', off: RETVAL_OFFSET, size: 8, signed: false };

interface UprobeData extends Record<string, unknown> {
  file: string;
  offset: number;
  retprobe: boolean;
  refCtrOffset?: number;
}

function uprobeTargets(ap: AttachPoint, env: ExpandEnv, kind: 'uprobe' | 'uretprobe'): ProbeTarget[] {
  const spec = parseSpec(ap.parts, kind);
  if (spec.target === null) {
    if (env.pid === undefined) throw new ProbeError(`${kind} probe type requires 2 arguments`, `HINT: ${kind}:BINARY:FUNCTION, or ${kind}:FUNCTION with -p PID`);
    spec.target = exePath(env.pid, kind);
  }
  const retprobe = kind === 'uretprobe';
  const out: ProbeTarget[] = [];
  const many = hasWildcard(spec.target);
  for (const bin of resolveBinaries(spec.target, env.pid, kind)) {
    let locs: Location[];
    try {
      locs = locate(bin, spec, kind, env.unsafe ?? false);
    } catch (e) {
      // A binary glob also matches files that are not ELF or lack the function.
      if (many && e instanceof ProbeError) continue;
      throw e;
    }
    for (const loc of locs) {
      const data: UprobeData = { file: bin.file, offset: loc.offset, retprobe };
      const t: ProbeTarget = {
        provider: kind,
        name: `${kind}:${bin.shown}:${loc.label}`,
        progType: ProgType.KPROBE,
        argN: retprobe ? undefined : ctxArg,
        argRead: retprobe ? undefined : entryArgRead(true),
        retval: retprobe ? RETVAL_READ : undefined,
        func: loc.func,
        data,
      };
      if (!retprobe) lazyArgs(t, bin, loc);
      out.push(t);
    }
  }
  return out;
}

/**
 * Gives a uprobe target its `args` (and `argsError`), read from DWARF the
 * first time a program asks: expanding a wildcard over a big binary does
 * not read any debug info.
 */
function lazyArgs(t: ProbeTarget, bin: UserBinary, loc: Location): void {
  let got: UprobeArgs | undefined;
  const get = (): UprobeArgs => {
    if (got) return got;
    if (loc.addr === undefined) return (got = { fields: [] });
    let elf: Elf;
    try {
      elf = openElf(bin.file);
    } catch (e) {
      return (got = { error: `No debuginfo found for ${bin.shown}` });
    }
    return (got = uprobeArgs(elf, loc.func, loc.addr, bin.shown));
  };
  Object.defineProperty(t, 'args', { get: () => get().fields, enumerable: true, configurable: true });
  Object.defineProperty(t, 'argsError', { get: () => get().error, enumerable: true, configurable: true });
}

/** Splits `uprobe:BIN:FUNC` (provider included) for listing. */
function listSpec(pattern: string): string[] {
  return splitAttachPoint(pattern).parts;
}

/**
 * `-lv` parameter lines of one binary's functions, or a warning (once per
 * binary, when the first function is listed) if it has no DWARF.
 */
function paramLister(elf: Elf, bin: UserBinary, env?: ListEnv): (func: string, addr: number) => string[] {
  let dwarf: Dwarf | null | undefined;
  return (func, addr) => {
    if (dwarf === undefined) {
      try {
        dwarf = dwarfOf(elf);
      } catch (e) {
        dwarf = null;
        env?.warn?.(`Cannot read DWARF of "${bin.shown}": ${(e as Error).message}`);
        return [];
      }
      if (!dwarf) env?.warn?.(`No DWARF found for "${bin.shown}", cannot show parameter info`);
    }
    if (!dwarf) return [];
    try {
      return paramListing(dwarf, func, addr);
    } catch {
      return [];
    }
  };
}

function listUprobes(kind: 'uprobe' | 'uretprobe', pattern: string, verbose: boolean, env?: ListEnv): string[] {
  const parts = listSpec(pattern);
  if (parts.length < 2 || parts[0] === '') return [];
  const spec = parseSpec(parts, kind);
  const out = new Map<string, string[]>();
  for (const bin of resolveBinaries(spec.target!, env?.pid, kind)) {
    let elf: Elf;
    try {
      elf = openElf(bin.file);
    } catch {
      continue;
    }
    if (spec.func === '' || ADDR_RE.test(spec.func)) {
      out.set(`${kind}:${bin.shown}:`, []);
      continue;
    }
    const name = OFFSET_RE.exec(spec.func)?.[1] ?? spec.func;
    // -v: each function's parameters from DWARF, as bpftrace 0.17 lists them for uprobes (not uretprobes).
    const params = verbose && kind === 'uprobe' ? paramLister(elf, bin, env) : undefined;
    for (const m of matchFunctions(elf, name, spec.cpp, true)) {
      // Demangled names hold characters the attach point syntax splits on.
      const line = spec.cpp ? `${kind}:${bin.shown}:cpp:"${m.name}"` : `${kind}:${bin.shown}:${m.name}`;
      if (out.has(line)) continue;
      out.set(line, params ? params(m.sym.plain, m.sym.addr) : []);
    }
  }
  return [...out.keys()].sort().flatMap((k) => [k, ...out.get(k)!]);
}

function makeUprobeProvider(kind: 'uprobe' | 'uretprobe', names: string[]): Provider {
  return {
    names,
    expand: (ap, env) => uprobeTargets(ap, env, kind),
    attach(progFd, t, env) {
      const d = t.data as UprobeData;
      return attachPerfEvent(progFd, openUprobe(d.file, d.offset, { retprobe: d.retprobe, pid: env.pid ?? -1, refCtrOffset: d.refCtrOffset }));
    },
    // Probes in one file with the same program share one uprobe_multi link.
    multi: {
      key(t) {
        if (!hasUprobeMulti()) return undefined;
        const d = t.data as UprobeData;
        return `${d.file}\0${d.retprobe ? 1 : 0}`;
      },
      attachType: AttachType.TRACE_UPROBE_MULTI,
      attach(progFd, targets, env) {
        const ds = targets.map((t) => t.data as UprobeData);
        return attachUprobeMulti(progFd, {
          path: ds[0].file,
          offsets: ds.map((d) => BigInt(d.offset)),
          refCtrOffsets: ds.some((d) => d.refCtrOffset) ? ds.map((d) => BigInt(d.refCtrOffset ?? 0)) : undefined,
          retprobe: ds[0].retprobe,
          pid: env.pid,
        });
      },
    },
    list: (pattern, verbose, env) => listUprobes(kind, pattern, verbose, env),
  };
}

export const uprobeProvider = makeUprobeProvider('uprobe', ['uprobe', 'u']);
export const uretprobeProvider = makeUprobeProvider('uretprobe', ['uretprobe', 'ur']);
