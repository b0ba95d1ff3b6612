// Time, signals, symbols and small helpers: nsecs(clock), strftime, signal,
// ksym/usym, kaddr, cgroupid, len, sizeof-like helpers.
import * as A from '../bpf/asm/index.js';
import type { Call, Expr } from '../lang/ast.js';
import { isInt, kindName, tyName, u64, none } from '../analysis/types.js';
import { statSync } from 'node:fs';
import type { CompileOptions, FnBuiltin, GenCtx } from './registry.js';
import { argCount, intArg, probeTypeName } from './args.js';
import { notePid, wantSeenPid } from './stacks.js';
import { reg as regOffset, REG_NAMES } from '../symbols/regs.js';

const nargs = argCount;

const CLOCKS: Record<string, string> = { monotonic: 'ktime_get_ns', boot: 'ktime_get_boot_ns', tai: 'ktime_get_tai_ns', sw_tai: 'ktime_get_tai_ns' };

const nsecsFn: FnBuiltin = {
  names: ['nsecs'],
  type(call, t) {
    nargs(call, t, 0, 1);
    if (call.args.length) {
      const a = call.args[0];
      const name = a.kind === 'Builtin' ? a.name : a.kind === 'Str' ? a.value : '';
      if (!CLOCKS[name]) t.error(a.loc, `Invalid timestamp mode: ${name || 'expression'} (use monotonic, boot or tai)`);
    }
    return u64;
  },
  emit(call, g) {
    const a = call.args[0];
    const name = !a ? 'monotonic' : a.kind === 'Builtin' ? a.name : a.kind === 'Str' ? a.value : 'monotonic';
    g.e.call(CLOCKS[name]);
    const v = g.e.vreg();
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const strftime: FnBuiltin = {
  names: ['strftime'],
  type(call, t) {
    nargs(call, t, 2);
    const fmt = t.literalString(call.args[0], 'strftime', call.loc);
    intArg(call, t, 1);
    return { k: 'int', size: 8, signed: false, fmt: 'timestamp', strftime: fmt } as never;
  },
  emit(call, g) {
    return { reg: g.int(call.args[1]) };
  },
};

const signal: FnBuiltin = {
  names: ['signal'],
  unsafe: true,
  type(call, t) {
    nargs(call, t, 1);
    const a = call.args[0];
    // bpf_send_signal needs the task an event interrupted; BEGIN/END run from user space.
    if (t.target.special) t.report(call.loc, `signal can not be used with "${probeTypeName(t)}" probes`);
    if (a.kind === 'Str') {
      if (signalNumber(a.value) === undefined) t.error(call.loc, `${a.value} is not a valid signal`);
    } else if (!isInt(t.typeOf(a))) t.error(call.loc, `signal() only accepts a string literal or integer argument (${kindName(t.typeOf(a))} provided)`);
    else {
      const n = t.constValue(a);
      if (n !== undefined && (n < 1n || n > 64n)) t.error(call.loc, `${n} is not a valid signal, allowed range: [1,64]`);
    }
    return none;
  },
  emit(call, g) {
    const a = call.args[0];
    if (a.kind === 'Str') g.e.emit(A.mov64Imm(A.R1, signalNumber(a.value)!));
    else {
      const v = g.int(a);
      g.e.get(v, A.R1);
      g.e.free(v);
    }
    g.e.call('send_signal');
    return null;
  },
};

const SIGNALS = ['', 'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS'];
export function signalNumber(name: string): number | undefined {
  const n = name.toUpperCase().replace(/^SIG/, '');
  const i = SIGNALS.indexOf(n);
  if (i > 0) return i;
  if (/^\d+$/.test(name) && Number(name) > 0 && Number(name) < 65) return Number(name);
  return undefined;
}

const ksym: FnBuiltin = {
  names: ['ksym'],
  type(call, t) {
    nargs(call, t, 1);
    if (!isInt(t.typeOf(call.args[0])) && t.typeOf(call.args[0]).k !== 'ptr') t.error(call.loc, 'ksym() expects an integer or pointer argument');
    return { k: 'int', size: 8, signed: false, fmt: 'ksym' };
  },
  emit: (call, g) => ({ reg: g.int(call.args[0]) }),
};

const usym: FnBuiltin = {
  names: ['usym'],
  type(call, t) {
    nargs(call, t, 1);
    if (!isInt(t.typeOf(call.args[0])) && t.typeOf(call.args[0]).k !== 'ptr') t.error(call.loc, 'usym() expects an integer or pointer argument');
    wantSeenPid(t, call.loc);
    return { k: 'usym', size: 16 };
  },
  emit(call, g) {
    // {address, pid}: user symbols need the process's mappings.
    const e = g.e;
    const m = e.scratch(16);
    const v = g.int(call.args[0]);
    e.get(v, A.R0);
    e.free(v);
    e.store('dw', m, 0, A.R0);
    e.call('get_current_pid_tgid');
    e.emit(A.alu64Imm('rsh', A.R0, 32));
    e.store('dw', m, 8, A.R0);
    notePid(g, e.offset(m, 8));
    return { mem: m };
  },
};

const kaddr: FnBuiltin = {
  names: ['kaddr'],
  type(call, t) {
    nargs(call, t, 1);
    const name = t.literalString(call.args[0], 'kaddr', call.loc);
    if (t.opts.resolveKaddr && t.opts.resolveKaddr(name) === undefined) t.error(call.loc, `Failed to resolve kernel symbol: ${name}`);
    return u64;
  },
  emit(call, g) {
    const name = literalText(g, call.args[0]);
    return { reg: g.e.constant(g.opts.resolveKaddr?.(name) ?? 0n) };
  },
};

const cgroupid: FnBuiltin = {
  names: ['cgroupid'],
  type(call, t) {
    nargs(call, t, 1);
    const path = t.literalString(call.args[0], 'cgroupid', call.loc);
    if (cgroupIdOf(t.opts, path) === undefined) t.error(call.loc, `cgroupid: cannot resolve cgroup path '${path}'`);
    return u64;
  },
  emit(call, g) {
    const path = literalText(g, call.args[0]);
    return { reg: g.e.constant(cgroupIdOf(g.opts, path) ?? 0n) };
  },
};

/** The text of a string literal or positional parameter the type rule accepted. */
function literalText(g: GenCtx, e: Expr): string {
  if (e.kind === 'Positional') return g.opts.positional[e.index - 1] ?? '';
  return e.kind === 'Str' ? e.value : '';
}

/** A cgroup v2 id is the inode number of its directory; callers may resolve it their own way. */
function cgroupIdOf(opts: CompileOptions, path: string): bigint | undefined {
  if (opts.resolveCgroupId) return opts.resolveCgroupId(path);
  try {
    const st = statSync(path, { bigint: true });
    return st.isDirectory() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

const cgroupPath: FnBuiltin = {
  names: ['cgroup_path'],
  type(call, t) {
    nargs(call, t, 1, 2);
    intArg(call, t, 0);
    return { k: 'cgroup_path', size: 8 };
  },
  emit: (call, g) => ({ reg: g.int(call.args[0]) }),
};

const len: FnBuiltin = {
  names: ['len'],
  type(call, t) {
    nargs(call, t, 1);
    const a = call.args[0];
    if (a.kind === 'Map' && !a.keys) {
      t.mapArg(a, 'len');
      t.error(call.loc, 'len() of a map is counted in user space: use print() or count() instead');
    }
    const ty = t.typeOf(a);
    if (ty.k !== 'array' && ty.k !== 'stack') t.error(a.loc, `len() expects an array or a stack (${tyName(ty)} provided)`);
    return u64;
  },
  emit(call, g) {
    const ty = g.typeOf(call.args[0]);
    return { reg: g.e.constant(ty.k === 'array' ? ty.len : 0) };
  },
};

/** Program types whose context starts with struct pt_regs: kprobe/uprobe/usdt and perf events (profile). */
const PT_REGS_PROGS = new Set([2, 7]);

const reg: FnBuiltin = {
  names: ['reg'],
  type(call, t) {
    nargs(call, t, 1);
    const name = t.literalString(call.args[0], 'reg');
    if (regOffset(name) === undefined) t.error(call.args[0].loc, `'${name}' is not a valid register (${REG_NAMES.join(', ')})`);
    if (!PT_REGS_PROGS.has(t.target.progType)) t.error(call.loc, `reg can not be used with "${t.target.provider}" probes`);
    return u64;
  },
  emit(call, g) {
    const off = regOffset((call.args[0] as { value: string }).value)!;
    return g.ctxReadInt({ kind: 'ctx', off, size: 8, signed: false });
  },
};

/** strerror(errno): the number travels; user space prints the C library's message. */
const strerror: FnBuiltin = {
  names: ['strerror'],
  type(call, t) {
    nargs(call, t, 1);
    intArg(call, t, 0);
    return { k: 'int', size: 8, signed: true, fmt: 'errno' };
  },
  emit: (call, g) => ({ reg: g.int(call.args[0]) }),
};

export const miscBuiltins: FnBuiltin[] = [reg, nsecsFn, strftime, signal, ksym, usym, kaddr, cgroupid, cgroupPath, len, strerror];
