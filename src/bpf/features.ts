// What this kernel can do, learned by trying: each feature is a tiny program,
// map or perf event the kernel accepts or refuses, tried once per process and
// cached. Reading version numbers or config files would be wrong on distro
// kernels with backports and on kernels (like ours) with features compiled out.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Btf } from '../btf/index.js';
import { Attr, LinkCreateAttr, TestRunAttr, cString } from './attr.js';
import { assemble, call, exit, jmpImm, label, alu64Imm, mov64Imm, ldImm64, type Insn, R0 } from './asm/index.js';
import { helperId } from './asm/helpers.js';
import { NotSupportedError } from './errors.js';
import { BpfMap, MapType } from './map.js';
import { openHardware, probePmu } from './perf.js';
import { AttachType, ProgType, tryLoad, type ProgramSpec } from './program.js';
import { BpfCmd, SysError, addressOf, bpfTry, close, errno } from './sys.js';

const cache = new Map<string, unknown>();

function once<T>(key: string, probe: () => T): T {
  if (!cache.has(key)) {
    let v: T;
    try {
      v = probe();
    } catch (e) {
      // A probe that cannot even be attempted (EPERM as non-root) answers
      // "no" without caching, so a later privileged attempt can still say yes.
      if (e instanceof SysError && (e.errno === errno.EPERM || e.errno === errno.EACCES)) return false as T;
      throw e;
    }
    cache.set(key, v);
  }
  return cache.get(key) as T;
}

/** Forgets every cached answer (tests that change the machine, e.g. mount tracefs). */
export function resetFeatureCache(): void {
  cache.clear();
}

const RET0: Insn[] = [mov64Imm(R0, 0), exit()];

function loads(spec: ProgramSpec): boolean {
  const r = tryLoad(spec);
  if (r.fd >= 0) close(r.fd);
  return r.fd >= 0;
}

/** Whether programs of `type` load (a two-instruction "return 0"). */
export function hasProgType(type: number): boolean {
  if (type === ProgType.TRACING) return hasFentry();
  return once(`prog:${type}`, () => loads({ type, insns: assemble(RET0).bytes, name: 'probe_prog' }));
}

/** Whether maps of `type` can be created (with sizes that type accepts). */
export function hasMapType(type: number): boolean {
  return once(`map:${type}`, () => {
    let keySize = 4;
    let valueSize = 4;
    let maxEntries = 1;
    if (type === MapType.STACK_TRACE) valueSize = 8;
    if (type === MapType.RINGBUF) {
      keySize = 0;
      valueSize = 0;
      maxEntries = 4096;
    }
    try {
      BpfMap.create({ type, name: 'probe_map', keySize, valueSize, maxEntries }).close();
      return true;
    } catch (e) {
      if (e instanceof SysError && e.errno !== errno.EPERM) return false;
      throw e;
    }
  });
}

/** A vmlinux function id to point tracing programs at, found in the kernel's BTF. */
function vmlinuxFuncId(candidates: string[]): number | undefined {
  if (!hasBtf()) return undefined;
  const btf = Btf.vmlinux();
  for (const name of candidates) {
    const id = btf.findByName(name, 'func');
    if (id !== undefined) return id;
  }
  return undefined;
}

const FENTRY_TARGETS = ['bpf_fentry_test1', 'filp_close', 'vfs_read'];

function tracingLoads(attachType: number, targets: string[], insns: Insn[] = RET0): boolean {
  const id = vmlinuxFuncId(targets);
  if (id === undefined) return false;
  return loads({ type: ProgType.TRACING, expectedAttachType: attachType, attachBtfId: id, insns: assemble(insns).bytes, name: 'probe_fentry' });
}

/** fentry (bpftrace's kfunc): a TRACING program attached by BTF id loads. */
export function hasFentry(): boolean {
  if (featureDisabled('fentry')) return false;
  return once('fentry', () => tracingLoads(AttachType.TRACE_FENTRY, FENTRY_TARGETS));
}

export function hasFexit(): boolean {
  if (featureDisabled('fexit')) return false;
  return once('fexit', () => tracingLoads(AttachType.TRACE_FEXIT, FENTRY_TARGETS));
}

/**
 * The helper's availability in a program type. The verifier rejects an
 * unavailable helper before it looks at arguments ("unknown func", "invalid
 * func" on older kernels, "program of this type cannot use helper" on newer
 * ones), so a call with garbage arguments tells by the log's wording.
 */
export function hasHelper(helper: string | number, progType?: number): boolean {
  const id = typeof helper === 'number' ? helper : helperId(helper);
  if (id === undefined) return false;
  const type = progType ?? defaultHelperProgType();
  return once(`helper:${id}:${type}`, () => {
    const insns = assemble([call(id), exit()]).bytes;
    let spec: ProgramSpec = { type, insns, name: 'probe_helper' };
    if (type === ProgType.TRACING) {
      // Tracing helpers like d_path are allowed only in some functions; aim at one of those.
      const target = vmlinuxFuncId(['filp_close', 'vfs_truncate', 'dentry_open']);
      if (target === undefined || !hasFentry()) return false;
      spec = { ...spec, expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: target };
    }
    const r = tryLoad(spec, 1, 64 * 1024);
    if (r.fd >= 0) {
      close(r.fd);
      return true;
    }
    if (r.errno === errno.EPERM) return false;
    return !/(unknown|invalid) func /.test(r.log) && !/helper call is not allowed|program of this type cannot use helper/.test(r.log);
  });
}

// bpftrace probes helpers in kprobe programs; a kernel without them (no
// CONFIG_KPROBE_EVENTS and no uprobes) still has tracepoint programs.
function defaultHelperProgType(): number {
  return hasProgType(ProgType.KPROBE) ? ProgType.KPROBE : ProgType.TRACEPOINT;
}

/** The verifier's instruction budget ("processed 2 insns (limit 1000000)"), -1 if unknown. */
export function instructionLimit(): number {
  return once('insn-limit', () => {
    const r = tryLoad({ type: ProgType.TRACEPOINT, insns: assemble([ldImm64(R0, 0), exit()]).bytes, name: 'probe_limit' }, 1, 4096);
    if (r.fd >= 0) close(r.fd);
    const m = /processed \d+ insns \(limit (\d+)\)/.exec(r.log);
    return m ? Number(m[1]) : -1;
  });
}

/** Bounded loops (5.3): a backward jump the verifier can prove terminates. */
export function hasBoundedLoops(): boolean {
  return once('loops', () => loads({
    type: ProgType.TRACEPOINT,
    name: 'probe_loop',
    insns: assemble([mov64Imm(R0, 0), label('top'), alu64Imm('add', R0, 1), jmpImm('jlt', R0, 4, 'top'), exit()]).bytes,
  }));
}

export function hasBtf(): boolean {
  return existsSync('/sys/kernel/btf/vmlinux');
}

export function hasModuleBtf(): boolean {
  try {
    return readdirSync('/sys/kernel/btf').some((f) => f !== 'vmlinux');
  } catch {
    return false;
  }
}

/** BPF_MAP_LOOKUP_BATCH (5.6): an empty hash answers ENOENT where the command exists. */
export function hasMapBatch(): boolean {
  return once('map-batch', () => {
    const m = BpfMap.create({ type: MapType.HASH, name: 'probe_batch', keySize: 4, valueSize: 4, maxEntries: 1 });
    try {
      return m.lookupBatch(1) !== undefined;
    } finally {
      m.close();
    }
  });
}

/**
 * BPF_LINK_CREATE for perf events (5.15). Asked with an invalid target fd:
 * a kernel that knows the attach type complains about the fd (EBADF).
 */
export function hasPerfLink(): boolean {
  return once('perf-link', () => {
    const r = tryLoad({ type: ProgType.TRACEPOINT, insns: assemble(RET0).bytes, name: 'probe_link' });
    if (r.fd < 0) return false;
    try {
      const a = new Attr().u32(LinkCreateAttr.progFd, r.fd).u32(LinkCreateAttr.targetFd, -1).u32(LinkCreateAttr.attachType, AttachType.PERF_EVENT);
      const res = bpfTry(BpfCmd.LINK_CREATE, a.buf);
      if (res >= 0) close(res);
      return res >= 0 || res === -errno.EBADF;
    } finally {
      close(r.fd);
    }
  });
}

/**
 * kprobe_multi links (5.18, needs fprobe). Asked to attach to a symbol that
 * does not exist: a kernel that has them fails the lookup (ESRCH/ENOENT),
 * one without answers EOPNOTSUPP or EINVAL.
 */
export function hasKprobeMulti(): boolean {
  if (featureDisabled('kprobe_multi')) return false;
  return once('kprobe-multi', () => {
    const sym = cString('bpfkit_no_such_function');
    const syms = Buffer.alloc(8);
    syms.writeBigUInt64LE(addressOf(sym));
    return multiLinkProbe(AttachType.TRACE_KPROBE_MULTI, 'probe_kmulti', [errno.ESRCH, errno.ENOENT], (a) =>
      a.u32(LinkCreateAttr.kprobeMultiCnt, 1).ptr(LinkCreateAttr.kprobeMultiSyms, syms).keep(sym),
    );
  });
}

/**
 * uprobe_multi links (6.6). Asked to attach in a file that does not exist: a
 * kernel that has them fails the path lookup (ENOENT), one without rejects
 * the attach type (EINVAL) or has no uprobes (EOPNOTSUPP).
 */
export function hasUprobeMulti(): boolean {
  return once('uprobe-multi', () =>
    multiLinkProbe(AttachType.TRACE_UPROBE_MULTI, 'probe_umulti', [errno.ENOENT], (a) =>
      a
        .ptr(LinkCreateAttr.uprobeMultiPath, cString('/nonexistent/bpfkit-feature-probe'))
        .ptr(LinkCreateAttr.uprobeMultiOffsets, Buffer.alloc(8))
        .u32(LinkCreateAttr.uprobeMultiCnt, 1),
    ),
  );
}

/**
 * Loads an empty KPROBE program for a multi-attach type and asks for a link
 * that must fail: the kernel has the link type when it fails with one of
 * `expected` (the target lookup), not on the attach type itself.
 */
function multiLinkProbe(attachType: number, name: string, expected: number[], fill: (a: Attr) => Attr): boolean {
  const r = tryLoad({ type: ProgType.KPROBE, expectedAttachType: attachType, insns: assemble(RET0).bytes, name });
  if (r.fd < 0) return false;
  try {
    const a = fill(new Attr().u32(LinkCreateAttr.progFd, r.fd).u32(LinkCreateAttr.attachType, attachType));
    const res = bpfTry(BpfCmd.LINK_CREATE, a.buf);
    if (res >= 0) {
      close(res);
      return true;
    }
    return expected.some((e) => res === -e);
  } finally {
    close(r.fd);
  }
}

/** BEGIN/END the way bpfkit runs them: a raw tracepoint program executed by BPF_PROG_TEST_RUN. */
export function hasRawTracepointTestRun(): boolean {
  return once('raw-tp-run', () => {
    const r = tryLoad({ type: ProgType.RAW_TRACEPOINT, insns: assemble(RET0).bytes, name: 'probe_rawtp' });
    if (r.fd < 0) return false;
    try {
      const ctx = Buffer.alloc(8);
      const a = new Attr().u32(TestRunAttr.progFd, r.fd).u32(TestRunAttr.ctxSizeIn, ctx.length).ptr(TestRunAttr.ctxIn, ctx);
      return bpfTry(BpfCmd.PROG_TEST_RUN, a.buf) >= 0;
    } finally {
      close(r.fd);
    }
  });
}

export function hasKprobePmu(): boolean {
  return probePmu('kprobe') !== undefined;
}

export function hasUprobePmu(): boolean {
  return probePmu('uprobe') !== undefined;
}

/** USDT semaphores: the uprobe PMU takes a ref_ctr_offset (4.20). */
export function hasUprobeRefCtr(): boolean {
  return probePmu('uprobe')?.refCtrShift !== undefined;
}

/**
 * Test and diagnostic switch: BPFKIT_DISABLE_FEATURES=kprobe,kprobe_multi,...
 * (comma or space separated FeatureNames) makes the feature probes answer
 * "missing" for those features, so the fallbacks a kernel without them would
 * take (kprobes served by fentry, wildcard kprobes without kprobe_multi) can
 * be exercised on a kernel that has them. Read on every call, so a test can
 * set it for one run; it never turns a missing feature on.
 */
export function featureDisabled(name: FeatureName): boolean {
  const v = process.env.BPFKIT_DISABLE_FEATURES;
  return !!v && v.split(/[\s,]+/).includes(name);
}

/** kprobes as bpfkit attaches them: the kprobe PMU and kprobe programs. */
export function hasKprobes(): boolean {
  if (featureDisabled('kprobe')) return false;
  return hasKprobePmu() && hasProgType(ProgType.KPROBE);
}

export function hasUprobes(): boolean {
  return hasUprobePmu() && hasProgType(ProgType.KPROBE);
}

/** A hardware PMU that accepts a cycles event. */
export function hasHardwarePmu(): boolean {
  return once('hw-pmu', () => {
    try {
      openHardware('cycles', { pid: -1, cpu: 0, period: 1_000_000_000 }).close();
      return true;
    } catch (e) {
      if (e instanceof NotSupportedError) return false;
      if (e instanceof SysError && e.errno !== errno.EPERM && e.errno !== errno.EACCES) return false;
      throw e;
    }
  });
}

/** Feature names as `requireFeature` and NotSupportedError use them. */
export type FeatureName = 'kprobe' | 'uprobe' | 'fentry' | 'fexit' | 'ringbuf' | 'kprobe_multi' | 'uprobe_multi' | 'hardware' | 'perf_link' | 'map_batch' | 'raw_tracepoint' | 'btf';

const FEATURE_TESTS: Record<FeatureName, [() => boolean, string]> = {
  kprobe: [hasKprobes, 'kprobes are not available: this kernel has no kprobe PMU (built without CONFIG_KPROBES)'],
  uprobe: [hasUprobes, 'uprobes are not available: this kernel has no uprobe PMU (built without CONFIG_UPROBE_EVENTS)'],
  fentry: [hasFentry, 'fentry/kfunc probes are not available: the kernel refuses BPF tracing programs here'],
  fexit: [hasFexit, 'fexit/kretfunc probes are not available: the kernel refuses BPF tracing programs here'],
  ringbuf: [() => hasMapType(MapType.RINGBUF), 'BPF ring buffers are not available (kernel older than 5.8)'],
  kprobe_multi: [hasKprobeMulti, 'kprobe_multi links are not available'],
  uprobe_multi: [hasUprobeMulti, 'uprobe_multi links are not available'],
  hardware: [hasHardwarePmu, 'hardware events are not available: this machine has no hardware PMU'],
  perf_link: [hasPerfLink, 'bpf links for perf events are not available (kernel older than 5.15)'],
  map_batch: [hasMapBatch, 'batch map operations are not available (kernel older than 5.6)'],
  raw_tracepoint: [() => hasProgType(ProgType.RAW_TRACEPOINT), 'raw tracepoint programs are not available'],
  btf: [hasBtf, 'kernel BTF is not available (/sys/kernel/btf/vmlinux is missing)'],
};

/** Throws NotSupportedError with an explanation when the feature is missing. */
export function requireFeature(name: FeatureName): void {
  const [test, why] = FEATURE_TESTS[name];
  if (!test()) throw new NotSupportedError(name, featureDisabled(name) ? `${name} is turned off by BPFKIT_DISABLE_FEATURES` : why);
}

export interface FeatureReport {
  helpers: [string, boolean][];
  kernel: [string, string | number | boolean][];
  maps: [string, boolean][];
  probes: [string, boolean][];
}

/** Every probe, in `bpfkit --info`'s order and wording (bpftrace's where it has the line). */
export function featureReport(): FeatureReport {
  const h = (name: string, pt?: number): boolean => hasHelper(name, pt);
  return {
    helpers: [
      ['probe_read', h('probe_read')],
      ['probe_read_str', h('probe_read_str')],
      ['probe_read_user', h('probe_read_user')],
      ['probe_read_user_str', h('probe_read_user_str')],
      ['probe_read_kernel', h('probe_read_kernel')],
      ['probe_read_kernel_str', h('probe_read_kernel_str')],
      ['get_current_cgroup_id', h('get_current_cgroup_id')],
      ['send_signal', h('send_signal')],
      ['override_return', h('override_return', ProgType.KPROBE)],
      ['get_boot_ns', h('ktime_get_boot_ns')],
      ['dpath', h('d_path', ProgType.TRACING)],
      ['skboutput', h('skb_output', ProgType.TRACING)],
      ['get_tai_ns', h('ktime_get_tai_ns')],
      ['get_func_ip', h('get_func_ip', ProgType.KPROBE)],
      ['jiffies64', h('jiffies64')],
      ['get_current_task', h('get_current_task')],
      ['get_stackid', h('get_stackid')],
      ['get_ns_current_pid_tgid', h('get_ns_current_pid_tgid')],
      ['ringbuf_output', h('ringbuf_output')],
      ['ringbuf_reserve', h('ringbuf_reserve')],
      ['perf_event_output', h('perf_event_output')],
      ['loop', h('loop')],
      ['for_each_map_elem', h('for_each_map_elem')],
      ['map_lookup_percpu_elem', h('map_lookup_percpu_elem')],
    ],
    kernel: [
      ['Instruction limit', instructionLimit()],
      ['Loop support', hasBoundedLoops()],
      ['btf', hasBtf()],
      ['module btf', hasModuleBtf()],
      ['map batch', hasMapBatch()],
      ['uprobe refcount', hasUprobeRefCtr()],
      ['perf event links', hasPerfLink()],
    ],
    maps: [
      ['hash', hasMapType(MapType.HASH)],
      ['percpu hash', hasMapType(MapType.PERCPU_HASH)],
      ['lru hash', hasMapType(MapType.LRU_HASH)],
      ['lru percpu hash', hasMapType(MapType.LRU_PERCPU_HASH)],
      ['array', hasMapType(MapType.ARRAY)],
      ['percpu array', hasMapType(MapType.PERCPU_ARRAY)],
      ['stack_trace', hasMapType(MapType.STACK_TRACE)],
      ['perf_event_array', hasMapType(MapType.PERF_EVENT_ARRAY)],
      ['ringbuf', hasMapType(MapType.RINGBUF)],
    ],
    probes: [
      ['kprobe', hasKprobes()],
      ['uprobe', hasUprobes()],
      ['tracepoint', hasProgType(ProgType.TRACEPOINT)],
      ['rawtracepoint', hasProgType(ProgType.RAW_TRACEPOINT)],
      ['perf_event', hasProgType(ProgType.PERF_EVENT)],
      ['hardware', hasHardwarePmu()],
      ['kfunc', hasFentry()],
      ['kprobe_multi', hasKprobeMulti()],
      ['raw_tp_special', hasRawTracepointTestRun()],
    ],
  };
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/**
 * Whether this process may load tracing programs: CAP_BPF with CAP_PERFMON
 * (5.8+), or CAP_SYS_ADMIN, read from /proc/self/status's CapEff. Asking
 * before the first bpf() call turns a run of EPERMs into one clear message.
 */
export function hasBpfPrivileges(): boolean {
  let eff: bigint;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const at = status.indexOf('\nCapEff:');
    const end = status.indexOf('\n', at + 1);
    const hex = at < 0 ? '' : status.slice(at + 8, end < 0 ? undefined : end).trim();
    if (!hex) return process.geteuid?.() === 0;
    eff = BigInt(`0x${hex}`);
  } catch {
    return process.geteuid?.() === 0;
  }
  const has = (c: bigint): boolean => ((eff >> c) & 1n) === 1n;
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}
