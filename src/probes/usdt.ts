// usdt:BINARY:[PROVIDER:]NAME: statically defined probes (sys/sdt.h) that a
// program carries as ELF notes. Each note is one location (a nop) where a
// uprobe goes, with its own argument operands, so a probe inlined in three
// places is three targets. A semaphore, when the probe has one, is counted
// up by the kernel (the uprobe PMU's ref_ctr_offset) while we are attached,
// which is how programs know to compute expensive probe arguments.
import type { AttachPoint } from '../lang/ast.js';
import { splitAttachPoint } from '../lang/attach.js';
import { openUprobe } from '../bpf/perf.js';
import { attachPerfEvent } from '../bpf/link.js';
import { ProgType } from '../bpf/program.js';
import { openElf, type Elf, type UsdtNote } from '../symbols/elf.js';
import { IP_OFFSET, parseUsdtArgs, type UsdtArg } from '../symbols/usdt.js';
import { resolveBinaries, type UserBinary } from './uprobe.js';
import { globToRegExp, hasWildcard, ProbeError, type ArgRead, type CtxRead, type ExpandEnv, type ListEnv, type Provider, type ProbeTarget } from './provider.js';

interface UsdtSpec {
  target: string;
  provider: string;
  name: string;
}

function parseSpec(parts: string[]): UsdtSpec {
  if (parts.length === 2) return { target: parts[0], provider: '*', name: parts[1] };
  if (parts.length === 3) return { target: parts[0], provider: parts[1], name: parts[2] };
  throw new ProbeError('usdt probe type requires 2 or 3 arguments', 'HINT: usdt:BINARY:NAME or usdt:BINARY:PROVIDER:NAME');
}

/** The files to search: the named binaries, or everything -p's process has mapped when none is named. */
function binaries(target: string, pid: number | undefined): UserBinary[] {
  if ((target === '' || target === '*') && pid !== undefined) return resolveBinaries('*', pid, 'usdt');
  if (target === '') throw new ProbeError('usdt probe needs a binary (or -p PID)');
  return resolveBinaries(target, pid, 'usdt');
}

function notesOf(bin: UserBinary, quiet: boolean): { elf: Elf; notes: UsdtNote[] } | null {
  try {
    const elf = openElf(bin.file);
    return { elf, notes: elf.usdtNotes() };
  } catch (e) {
    if (quiet) return null;
    throw new ProbeError(`usdt target '${bin.shown}' cannot be read as an ELF file: ${(e as Error).message}`);
  }
}

function matching(notes: UsdtNote[], spec: UsdtSpec): UsdtNote[] {
  const rp = globToRegExp(spec.provider);
  const rn = globToRegExp(spec.name);
  return notes.filter((n) => rp.test(n.provider) && rn.test(n.name));
}

/** Truncates or sign-extends a constant operand the way a load of `size` bytes would. */
function sized(v: bigint, size: number, signed: boolean): bigint {
  const bits = BigInt(Math.min(size, 8) * 8);
  return signed ? BigInt.asIntN(Number(bits), v) : BigInt.asUintN(Number(bits), v);
}

/**
 * How a program reads one USDT operand. Globals are addressed from the probe's
 * own run-time ip (pt_regs ip is the probed nop's address when the uprobe
 * fires), so position-independent binaries need no load bias.
 */
export function usdtArgRead(arg: UsdtArg, elf: Elf, pc: number): ArgRead | undefined {
  if (arg.size !== 1 && arg.size !== 2 && arg.size !== 4 && arg.size !== 8) return undefined;
  const size = arg.size;
  const loc = arg.location;
  switch (loc.kind) {
    case 'register':
      if (loc.reg.highByte) return { kind: 'ctx', off: loc.reg.offset + 1, size: 1, signed: arg.signed };
      return { kind: 'ctx', off: loc.reg.offset, size, signed: arg.signed };
    case 'constant':
      return { kind: 'const', value: sized(loc.value, size, arg.signed) };
    case 'rip': {
      if (loc.symbol === null) return undefined;
      const sym = elf.findSymbol(loc.symbol);
      if (!sym) return undefined;
      return { kind: 'mem', terms: [{ off: IP_OFFSET, scale: 1 }], disp: BigInt(sym.addr) + loc.disp - BigInt(pc), size, signed: arg.signed, user: true };
    }
    case 'memory': {
      const terms: { off: number; scale: 1 | 2 | 4 | 8 }[] = [];
      if (loc.base) terms.push({ off: loc.base.offset, scale: 1 });
      if (loc.index) terms.push({ off: loc.index.offset, scale: loc.scale as 1 | 2 | 4 | 8 });
      let disp = loc.disp;
      if (loc.symbol !== null) {
        const sym = elf.findSymbol(loc.symbol);
        if (!sym) return undefined;
        disp += BigInt(sym.addr);
      }
      // An absolute address in a position-independent file moves with the load bias: ip - pc.
      if ((loc.symbol !== null || terms.length === 0) && elf.isPie) {
        terms.push({ off: IP_OFFSET, scale: 1 });
        disp -= BigInt(pc);
      }
      return { kind: 'mem', terms, disp, size, signed: arg.signed, user: true };
    }
    default:
      return undefined;
  }
}

function parseArgs(note: UsdtNote, shown: string): UsdtArg[] {
  try {
    return parseUsdtArgs(note.args);
  } catch (e) {
    throw new ProbeError(`usdt probe ${shown}:${note.provider}:${note.name}: ${(e as Error).message}`);
  }
}

interface UsdtData extends Record<string, unknown> {
  file: string;
  offset: number;
  retprobe: false;
  refCtrOffset?: number;
}

function expand(ap: AttachPoint, env: ExpandEnv): ProbeTarget[] {
  const spec = parseSpec(ap.parts);
  const bins = binaries(spec.target, env.pid);
  const many = hasWildcard(spec.target) || spec.target === '';
  const out: ProbeTarget[] = [];
  for (const bin of bins) {
    const found = notesOf(bin, many);
    if (!found) continue;
    for (const note of matching(found.notes, spec)) {
      const name = `usdt:${bin.shown}:${note.provider}:${note.name}`;
      if (note.pcOffset === null) throw new ProbeError(`usdt probe ${name}: no loadable segment holds its address 0x${note.pc.toString(16)}`);
      const args = parseArgs(note, bin.shown).map((a) => usdtArgRead(a, found.elf, note.pc));
      const data: UsdtData = { file: bin.file, offset: note.pcOffset, retprobe: false };
      if (note.semaphoreOffset) data.refCtrOffset = note.semaphoreOffset;
      out.push({
        provider: 'usdt',
        name,
        progType: ProgType.KPROBE,
        argRead: (n) => args[n],
        argN: (n) => {
          const r = args[n];
          return r && (r.kind === 'ctx' || r.kind === 'dataloc') ? (r as CtxRead) : undefined;
        },
        func: `${note.provider}:${note.name}`,
        data,
      });
    }
  }
  if (!out.length && !hasWildcard(ap.raw)) {
    throw new ProbeError(`usdt probe not found: ${spec.target}:${spec.provider === '*' ? '' : `${spec.provider}:`}${spec.name}`);
  }
  return out;
}

function argTexts(note: UsdtNote): string[] {
  try {
    return parseUsdtArgs(note.args).map((a) => a.text);
  } catch {
    return note.args.trim().split(/\s+/).filter(Boolean);
  }
}

function list(pattern: string, verbose: boolean, env?: ListEnv): string[] {
  const parts = splitAttachPoint(pattern).parts;
  if (parts.length < 2 || parts.length > 3) return [];
  const spec = parseSpec(parts);
  const lines = new Map<string, string[]>();
  for (const bin of binaries(spec.target, env?.pid)) {
    const found = notesOf(bin, true);
    if (!found) continue;
    for (const note of matching(found.notes, spec)) {
      const key = `usdt:${bin.shown}:${note.provider}:${note.name}`;
      if (!lines.has(key)) lines.set(key, verbose ? argTexts(note).map((a, i) => `    arg${i}: ${a}`) : []);
    }
  }
  return [...lines.keys()].sort().flatMap((k) => [k, ...lines.get(k)!]);
}

export const usdtProvider: Provider = {
  names: ['usdt', 'U'],
  expand,
  attach(progFd, t, env) {
    const d = t.data as UsdtData;
    return attachPerfEvent(progFd, openUprobe(d.file, d.offset, { pid: env.pid ?? -1, refCtrOffset: d.refCtrOffset }));
  },
  list,
};
