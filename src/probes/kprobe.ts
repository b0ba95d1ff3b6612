// kprobe:[MODULE:]FUNC[+OFFSET] and kretprobe. Three ways to serve one,
// decided by what the kernel can do: the kprobe PMU (a KPROBE program reading
// pt_regs); else, for a function entry or return, an fentry/fexit trampoline
// that still calls itself `kprobe:f` and reads arguments from its u64 slots;
// else an error naming tracepoints that report the same event.
// A wildcard without a module (`kprobe:vfs_*`) is served, where the kernel has
// kprobe_multi links (with or without the kprobe PMU), by one program and one
// link for every matched function; `func` then comes from bpf_get_func_ip per
// event. With a module, or when the probe reads `probe`, or without
// kprobe_multi, each function gets its own program (a perf-event kprobe, or
// fentry/fexit without kprobes), as bpftrace does.
import type { AttachPoint } from '../lang/ast.js';
import { splitAttachPoint } from '../lang/attach.js';
import { openKprobe } from '../bpf/perf.js';
import { attachKprobeMulti, attachPerfEvent, attachTracing } from '../bpf/link.js';
import { featureDisabled, hasKprobeMulti, hasKprobes } from '../bpf/features.js';
import { AttachType, ProgType } from '../bpf/program.js';
import { kallsyms, kernelFunctions } from '../symbols/kallsyms.js';
import { ARG_OFFSETS } from '../symbols/regs.js';
import { entryArgRead, RETVAL_READ } from './uprobe.js';
import { fentryTarget, fentryUnavailable, findKernelFuncs, funcContext, traceableFunctions, tracepointHint } from './fentry.js';
import { globToRegExp, hasWildcard, ProbeError, type CtxRead, type ExpandEnv, type Provider, type ProbeTarget } from './provider.js';

const OFFSET_RE = /^(.+?)\+(0x[0-9a-f]+|\d+)$/i;

interface KprobeSpec {
  module: string | null;
  func: string;
  offset: number;
}

function parseSpec(parts: string[], kind: string): KprobeSpec {
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => p === '')) {
    throw new ProbeError(`${kind} probe type requires 1 or 2 arguments`, `HINT: ${kind}:FUNCTION or ${kind}:MODULE:FUNCTION`);
  }
  const module = parts.length === 2 ? parts[0] : null;
  let func = parts[parts.length - 1];
  let offset = 0;
  const m = OFFSET_RE.exec(func);
  if (m) {
    if (kind === 'kretprobe') throw new ProbeError('kretprobe probes cannot have an offset');
    func = m[1];
    offset = Number(BigInt(m[2]));
    if (hasWildcard(func)) throw new ProbeError('kprobe offsets cannot be combined with wildcards');
  }
  return { module, func, offset };
}

/** Why the kprobe PMU is not used: missing, or turned off by the test switch. */
function noKprobes(): string {
  return featureDisabled('kprobe')
    ? 'they are turned off by BPFKIT_DISABLE_FEATURES'
    : 'this kernel was built without CONFIG_KPROBES (no kprobe PMU)';
}

/** Why kprobes cannot be used here at all (no PMU, and fentry refused or unfit), with the hint. */
function unavailable(kind: 'kprobe' | 'kretprobe', spec: KprobeSpec, fentryWhy: string | undefined): ProbeError {
  const ret = kind === 'kretprobe';
  const fallback = !fentryWhy
    ? `and fentry cannot attach at an offset into a function`
    : featureDisabled(ret ? 'fexit' : 'fentry')
      ? `and ${ret ? 'fexit' : 'fentry'}, which could serve ${kind}:${spec.func} instead, is turned off too`
      : `and the kernel refuses the fentry/fexit programs that could serve ${kind}:${spec.func} instead`;
  return new ProbeError(
    featureDisabled('kprobe')
      ? `${kind}s are not available: ${noKprobes()}, ${fallback}`
      : `${kind}s are not available on this kernel: it was built without CONFIG_KPROBES (no kprobe PMU), ${fallback}`,
    tracepointHint(spec.func, ret),
  );
}

/** Kernel functions a kprobe can hook: ftrace's list when readable, else kallsyms' text symbols. */
function kprobeFunctions(module: string | null): { name: string; module?: string }[] {
  const ok = traceableFunctions();
  const seen = new Set<string>();
  const out: { name: string; module?: string }[] = [];
  for (const f of kernelFunctions()) {
    if (module !== null && (f.module ?? 'vmlinux') !== module && !(hasWildcard(module) && globToRegExp(module).test(f.module ?? 'vmlinux'))) continue;
    // Local symbols like `foo.isra.0` or `.cold` parts are not probe points by name.
    if (f.name.includes('.') || (ok && !ok.has(f.name))) continue;
    const key = `${f.module ?? ''}:${f.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f.module ? { name: f.name, module: f.module } : { name: f.name });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const regArg = (n: number): CtxRead | undefined => {
  const off = ARG_OFFSETS[n];
  return off === undefined ? undefined : { kind: 'ctx', off, size: 8, signed: false };
};

interface KprobeData extends Record<string, unknown> {
  mode: 'pmu' | 'fentry' | 'multi';
  /** kprobe_multi: every function the one link attaches to. */
  symbols?: string[];
  /** `func` or `module:func` as the kprobe PMU takes it. */
  symbol?: string;
  offset?: number;
  retprobe?: boolean;
  attachType?: number;
}

function pmuTargets(kind: 'kprobe' | 'kretprobe', spec: KprobeSpec, env: ExpandEnv, raw: string): ProbeTarget[] {
  const ret = kind === 'kretprobe';
  let funcs: { name: string; module?: string }[];
  if (hasWildcard(spec.func) || (spec.module !== null && hasWildcard(spec.module))) {
    const re = globToRegExp(spec.func);
    funcs = kprobeFunctions(spec.module).filter((f) => re.test(f.name));
    // kprobe_multi takes bare names, so only a wildcard without a module.
    if (spec.module === null && hasWildcard(spec.func) && !env.expandAll && funcs.length > 1 && hasKprobeMulti()) {
      return [multiTarget(kind, [...new Set(funcs.map((f) => f.name))], raw)];
    }
  } else {
    const ks = kallsyms();
    if (ks.available && ks.address(spec.func) === 0n) throw new ProbeError(`${kind} target function '${spec.func}' not found in /proc/kallsyms`);
    funcs = [spec.module !== null ? { name: spec.func, module: spec.module } : { name: spec.func }];
  }
  return funcs.map((f) => {
    const mod = spec.module !== null ? f.module ?? 'vmlinux' : null;
    const symbol = mod && mod !== 'vmlinux' ? `${mod}:${f.name}` : f.name;
    const data: KprobeData = { mode: 'pmu', symbol, offset: spec.offset, retprobe: ret };
    return {
      provider: kind,
      name: `${kind}:${mod ? `${mod}:` : ''}${f.name}${spec.offset ? `+${spec.offset}` : ''}`,
      progType: ProgType.KPROBE,
      argN: ret ? undefined : regArg,
      argRead: ret ? undefined : entryArgRead(false),
      retval: ret ? RETVAL_READ : undefined,
      func: f.name,
      data,
    };
  });
}

/**
 * One KPROBE program for all of `symbols`, attached by one kprobe_multi link.
 * Named by the attach point as written (`kprobe:vfs_*`), like bpftrace's
 * program for a multi probe; `func` is the address of the function hit.
 */
function multiTarget(kind: 'kprobe' | 'kretprobe', symbols: string[], raw: string): ProbeTarget {
  const ret = kind === 'kretprobe';
  const data: KprobeData = { mode: 'multi', symbols, retprobe: ret };
  return {
    provider: kind,
    name: `${kind}:${raw.slice(raw.indexOf(':') + 1)}`,
    progType: ProgType.KPROBE,
    expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
    argN: ret ? undefined : regArg,
    argRead: ret ? undefined : entryArgRead(false),
    retval: ret ? RETVAL_READ : undefined,
    funcIp: true,
    funcs: symbols,
    data,
  };
}

/** `kprobe:f` served by a trampoline: bpftrace's names and argN/retval, fentry's context layout. */
function fentryTargets(kind: 'kprobe' | 'kretprobe', spec: KprobeSpec): ProbeTarget[] {
  const ret = kind === 'kretprobe';
  const funcs = findKernelFuncs(spec.module ?? '*', spec.func);
  if (!funcs.length && !hasWildcard(spec.func)) {
    throw new ProbeError(`${kind}:${spec.func}: kprobes are not available (${noKprobes()}), and serving it with fentry needs BTF for the function, which it lacks`, tracepointHint(spec.func, ret));
  }
  return funcs.map((f) => {
    const name = `${kind}:${spec.module !== null ? `${f.module}:` : ''}${f.name}`;
    const t = fentryTarget(f, ret, kind, name, 64);
    const nslots = funcContext(f, 64).nslots;
    const data: KprobeData = { mode: 'fentry', attachType: t.expectedAttachType };
    // kprobes have positional arguments, not `args`; every slot is a u64.
    return {
      ...t,
      args: undefined,
      argN: ret ? undefined : (n: number) => (Number.isInteger(n) && n >= 0 && n < nslots ? { kind: 'ctx' as const, off: n * 8, size: 8 as const, signed: false } : undefined),
      retval: ret ? { kind: 'ctx', off: nslots * 8, size: 8, signed: false } : undefined,
      data,
    };
  });
}

function expandKprobe(kind: 'kprobe' | 'kretprobe', ap: AttachPoint, env: ExpandEnv): ProbeTarget[] {
  const spec = parseSpec(ap.parts, kind);
  if (hasKprobes()) return pmuTargets(kind, spec, env, ap.raw);
  // kprobe_multi rests on fprobe, not on the kprobe PMU: a kernel can have it
  // without kprobes, and one program then serves the whole wildcard.
  if (spec.module === null && hasWildcard(spec.func) && !env.expandAll && hasKprobeMulti()) {
    const re = globToRegExp(spec.func);
    const names = [...new Set(kprobeFunctions(null).filter((f) => re.test(f.name)).map((f) => f.name))];
    if (names.length > 1) return [multiTarget(kind, names, ap.raw)];
  }
  const fentryWhy = fentryUnavailable(kind === 'kretprobe');
  if (fentryWhy || spec.offset) throw unavailable(kind, spec, fentryWhy);
  return fentryTargets(kind, spec);
}

function listKprobes(kind: 'kprobe' | 'kretprobe', pattern: string): string[] {
  const parts = splitAttachPoint(pattern).parts;
  const spec = parts.length === 0 ? { module: null, func: '*' } : parts.length === 1 ? { module: null, func: parts[0] } : { module: parts[0], func: parts[1] };
  if (!hasKprobes()) return [];
  const re = globToRegExp(spec.func);
  // bpftrace lists kernel functions without their module.
  return [...new Set(kprobeFunctions(spec.module).filter((f) => re.test(f.name)).map((f) => `${kind}:${f.name}`))];
}

function makeKprobeProvider(kind: 'kprobe' | 'kretprobe', names: string[]): Provider {
  return {
    names,
    expand: (ap, env) => expandKprobe(kind, ap, env),
    attach(progFd, t) {
      const d = t.data as KprobeData;
      if (d.mode === 'fentry') return attachTracing(progFd, { attachType: d.attachType! });
      if (d.mode === 'multi') return attachKprobeMulti(progFd, { symbols: d.symbols!, retprobe: d.retprobe });
      return attachPerfEvent(progFd, openKprobe(d.symbol!, { retprobe: d.retprobe, offset: d.offset }));
    },
    list: (pattern) => listKprobes(kind, pattern),
  };
}

export const kprobeProvider = makeKprobeProvider('kprobe', ['kprobe', 'k']);
export const kretprobeProvider = makeKprobeProvider('kretprobe', ['kretprobe', 'kr']);
