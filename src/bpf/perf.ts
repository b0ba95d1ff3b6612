// perf_event_open(2) for everything a BPF program can hang off: tracepoints,
// software and hardware events, and uprobes/kprobes created through their
// PMUs. PMU-created probes vanish with their fd, so nothing is left behind in
// tracefs when bpfkit dies, however it dies.
import { existsSync, readFileSync } from 'node:fs';
import { Attr, PERF_ATTR_SIZE, PerfAttr, PerfFlag, cString } from './attr.js';
import { onlineCpus } from './cpus.js';
import { NotSupportedError } from './errors.js';
import { trackFd, untrackFd } from './fds.js';
import { SysError, close, errno, ioctl, perfEventOpen } from './sys.js';

/** enum perf_type_id. */
export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;

/** enum perf_sw_ids. */
export const SwEvent = {
  CPU_CLOCK: 0, TASK_CLOCK: 1, PAGE_FAULTS: 2, CONTEXT_SWITCHES: 3, CPU_MIGRATIONS: 4, PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6, ALIGNMENT_FAULTS: 7, EMULATION_FAULTS: 8, DUMMY: 9, BPF_OUTPUT: 10, CGROUP_SWITCHES: 11,
} as const;

/** enum perf_hw_id. */
export const HwEvent = {
  CPU_CYCLES: 0, INSTRUCTIONS: 1, CACHE_REFERENCES: 2, CACHE_MISSES: 3, BRANCH_INSTRUCTIONS: 4, BRANCH_MISSES: 5,
  BUS_CYCLES: 6, STALLED_CYCLES_FRONTEND: 7, STALLED_CYCLES_BACKEND: 8, REF_CPU_CYCLES: 9,
} as const;

/** perf_event_attr.sample_type bits. */
export const SampleType = {
  IP: 1, TID: 2, TIME: 4, ADDR: 8, READ: 16, CALLCHAIN: 32, ID: 64, CPU: 128, PERIOD: 256, STREAM_ID: 512, RAW: 1024,
} as const;

/** ioctl requests on perf event fds (_IO/_IOW('$', n)). */
export const PerfIoc = { ENABLE: 0x2400, DISABLE: 0x2401, REFRESH: 0x2402, RESET: 0x2403, SET_BPF: 0x40042408, ID: 0x80082407 } as const;

export interface NamedEvent {
  config: number;
  /** bpftrace's spellings: canonical name first. */
  names: string[];
  /** Period bpftrace uses when the probe gives none. */
  defaultPeriod: number;
}

/** bpftrace's `software:` event names. */
export const SOFTWARE_EVENTS: NamedEvent[] = [
  { config: SwEvent.CPU_CLOCK, names: ['cpu-clock', 'cpu'], defaultPeriod: 1000000 },
  { config: SwEvent.TASK_CLOCK, names: ['task-clock'], defaultPeriod: 1000000 },
  { config: SwEvent.PAGE_FAULTS, names: ['page-faults', 'faults'], defaultPeriod: 100 },
  { config: SwEvent.CONTEXT_SWITCHES, names: ['context-switches', 'cs'], defaultPeriod: 1000 },
  { config: SwEvent.CPU_MIGRATIONS, names: ['cpu-migrations'], defaultPeriod: 1 },
  { config: SwEvent.PAGE_FAULTS_MIN, names: ['minor-faults'], defaultPeriod: 100 },
  { config: SwEvent.PAGE_FAULTS_MAJ, names: ['major-faults'], defaultPeriod: 1 },
  { config: SwEvent.ALIGNMENT_FAULTS, names: ['alignment-faults'], defaultPeriod: 1 },
  { config: SwEvent.EMULATION_FAULTS, names: ['emulation-faults'], defaultPeriod: 1 },
  { config: SwEvent.DUMMY, names: ['dummy'], defaultPeriod: 1 },
  { config: SwEvent.BPF_OUTPUT, names: ['bpf-output'], defaultPeriod: 1 },
];

/** bpftrace's `hardware:` event names. */
export const HARDWARE_EVENTS: NamedEvent[] = [
  { config: HwEvent.CPU_CYCLES, names: ['cpu-cycles', 'cycles'], defaultPeriod: 1000000 },
  { config: HwEvent.INSTRUCTIONS, names: ['instructions'], defaultPeriod: 1000000 },
  { config: HwEvent.CACHE_REFERENCES, names: ['cache-references'], defaultPeriod: 1000000 },
  { config: HwEvent.CACHE_MISSES, names: ['cache-misses'], defaultPeriod: 1000000 },
  { config: HwEvent.BRANCH_INSTRUCTIONS, names: ['branch-instructions', 'branches'], defaultPeriod: 100000 },
  { config: HwEvent.BRANCH_MISSES, names: ['branch-misses'], defaultPeriod: 100000 },
  { config: HwEvent.BUS_CYCLES, names: ['bus-cycles'], defaultPeriod: 100000 },
  { config: HwEvent.STALLED_CYCLES_FRONTEND, names: ['frontend-stalls'], defaultPeriod: 1000000 },
  { config: HwEvent.STALLED_CYCLES_BACKEND, names: ['backend-stalls'], defaultPeriod: 1000000 },
  { config: HwEvent.REF_CPU_CYCLES, names: ['ref-cycles'], defaultPeriod: 1000000 },
];

export function findSoftwareEvent(name: string): NamedEvent | undefined {
  return SOFTWARE_EVENTS.find((e) => e.names.includes(name));
}

export function findHardwareEvent(name: string): NamedEvent | undefined {
  return HARDWARE_EVENTS.find((e) => e.names.includes(name));
}

/** An open perf event. Closing it removes a PMU-created probe with it. */
export class PerfEvent {
  private closed = false;
  constructor(readonly fd: number, readonly what: string) {
    trackFd(fd, `perf event ${what}`, () => {
      this.closed = true;
    });
  }

  enable(): void {
    ioctl(this.fd, PerfIoc.ENABLE, 0, `enabling ${this.what}`);
  }

  disable(): void {
    ioctl(this.fd, PerfIoc.DISABLE, 0, `disabling ${this.what}`);
  }

  /** PERF_EVENT_IOC_SET_BPF: the pre-5.15 way to attach (bpf links are preferred). */
  setBpf(progFd: number): void {
    ioctl(this.fd, PerfIoc.SET_BPF, progFd, `attaching a program to ${this.what}`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    untrackFd(this.fd);
    close(this.fd);
  }
}

export interface PerfOpenOptions {
  /** Process to watch (-1: all). */
  pid?: number;
  /** CPU to watch (-1: any; needs pid >= 0). */
  cpu?: number;
  groupFd?: number;
  /** Open disabled (default) so nothing fires before a program is attached; enable() after. */
  disabled?: boolean;
  /** Sample every N events (sample_period)... */
  period?: number | bigint;
  /** ...or N times a second (sample_freq). */
  freq?: number;
  sampleType?: number;
  /** Wake readers every N samples. */
  wakeupEvents?: number;
  /** Extra perf_event_attr flag bits (PerfFlag). */
  flags?: bigint;
  /** A value, or a Buffer whose address goes in (probe PMUs take a path or symbol name there). */
  config1?: bigint | Buffer;
  config2?: bigint;
}

/**
 * perf_event_open with the attr built from `opts`. `what` names the event in
 * errors ("tracepoint syscalls:sys_enter_read", "uprobe /bin/bash:readline").
 */
export function openPerfEvent(type: number, config: bigint | number, opts: PerfOpenOptions, what: string): PerfEvent {
  const a = new Attr(PERF_ATTR_SIZE)
    .u32(PerfAttr.type, type)
    .u32(PerfAttr.size, PERF_ATTR_SIZE)
    .u64(PerfAttr.config, config);
  let flags = opts.flags ?? 0n;
  if (opts.disabled ?? true) flags |= PerfFlag.disabled;
  if (opts.freq !== undefined) {
    flags |= PerfFlag.freq;
    a.u64(PerfAttr.sampleFreq, opts.freq);
  } else if (opts.period !== undefined) {
    a.u64(PerfAttr.samplePeriod, opts.period);
  }
  a.u64(PerfAttr.flags, flags);
  if (opts.sampleType !== undefined) a.u64(PerfAttr.sampleType, opts.sampleType);
  if (opts.wakeupEvents !== undefined) a.u32(PerfAttr.wakeupEvents, opts.wakeupEvents);
  if (Buffer.isBuffer(opts.config1)) a.ptr(PerfAttr.config1, opts.config1);
  else if (opts.config1 !== undefined) a.u64(PerfAttr.config1, opts.config1);
  if (opts.config2 !== undefined) a.u64(PerfAttr.config2, opts.config2);
  const pid = opts.pid ?? -1;
  const cpu = opts.cpu ?? (pid === -1 ? 0 : -1);
  let fd: number;
  try {
    fd = perfEventOpen(a.buf, pid, cpu, opts.groupFd ?? -1);
  } catch (e) {
    if (e instanceof SysError) throw new SysError(`opening ${what}`, e.errno);
    throw e;
  }
  return new PerfEvent(fd, what);
}

/**
 * A tracepoint event by its tracefs id (events/CAT/NAME/id). A BPF program
 * attached to it runs on every CPU, so one event on CPU 0 is enough.
 */
export function openTracepoint(id: number, what = `tracepoint ${id}`, opts: PerfOpenOptions = {}): PerfEvent {
  return openPerfEvent(PerfType.TRACEPOINT, id, { pid: -1, cpu: 0, ...opts }, what);
}

function resolveNamed(kind: 'software' | 'hardware', event: string | number): NamedEvent {
  const table = kind === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
  const found = typeof event === 'number' ? table.find((e) => e.config === event) : table.find((e) => e.names.includes(event));
  if (!found) {
    const names = table.map((e) => e.names[0]).join(', ');
    throw new RangeError(`unknown ${kind} event '${event}' (known: ${names})`);
  }
  return found;
}

/** A software event (cpu-clock, page-faults, ...) sampling every `period` events or `freq` times a second. */
export function openSoftware(event: string | number, opts: PerfOpenOptions = {}): PerfEvent {
  const e = resolveNamed('software', event);
  const o = { ...opts };
  if (o.period === undefined && o.freq === undefined) o.period = e.defaultPeriod;
  return openPerfEvent(PerfType.SOFTWARE, e.config, o, `software:${e.names[0]}`);
}

/** One software event per online CPU (profile-style sampling of the whole system). */
export function openSoftwarePerCpu(event: string | number, opts: PerfOpenOptions = {}): PerfEvent[] {
  return perCpu((cpu) => openSoftware(event, { ...opts, pid: -1, cpu }));
}

/**
 * A hardware event. Machines without a hardware PMU (most VMs) refuse
 * every hardware event; that becomes a NotSupportedError that says so.
 */
export function openHardware(event: string | number, opts: PerfOpenOptions = {}): PerfEvent {
  const e = resolveNamed('hardware', event);
  const o = { ...opts };
  if (o.period === undefined && o.freq === undefined) o.period = e.defaultPeriod;
  try {
    return openPerfEvent(PerfType.HARDWARE, e.config, o, `hardware:${e.names[0]}`);
  } catch (err) {
    if (err instanceof SysError && [errno.ENOENT, errno.ENODEV, errno.EOPNOTSUPP, errno.EINVAL].includes(err.errno as never)) {
      throw new NotSupportedError('hardware', `hardware event '${e.names[0]}' is not available: this machine has no hardware PMU (perf_event_open: ${err.code})`);
    }
    throw err;
  }
}

export function openHardwarePerCpu(event: string | number, opts: PerfOpenOptions = {}): PerfEvent[] {
  return perCpu((cpu) => openHardware(event, { ...opts, pid: -1, cpu }));
}

function perCpu(open: (cpu: number) => PerfEvent): PerfEvent[] {
  const out: PerfEvent[] = [];
  try {
    for (const cpu of onlineCpus()) out.push(open(cpu));
  } catch (e) {
    for (const ev of out) ev.close();
    throw e;
  }
  return out;
}

/** What a dynamic probe PMU (uprobe, kprobe) in /sys/bus/event_source/devices takes. */
export interface ProbePmu {
  type: number;
  /** Bit of `config` that makes a return probe. */
  retprobeBit: number;
  /** Shift of the uprobe semaphore offset inside `config` (USDT), when supported. */
  refCtrShift?: number;
}

const PMU_DIR = '/sys/bus/event_source/devices';
const pmuCache = new Map<string, ProbePmu | null>();

/** Parses a PMU format file ("config:0", "config:32-63") into its first bit. */
function formatBit(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const m = /^config:(\d+)/.exec(readFileSync(path, 'utf8').trim());
  return m ? Number(m[1]) : undefined;
}

/** The uprobe or kprobe PMU, or undefined when the kernel has none. */
export function probePmu(name: 'uprobe' | 'kprobe'): ProbePmu | undefined {
  if (!pmuCache.has(name)) {
    const dir = `${PMU_DIR}/${name}`;
    let pmu: ProbePmu | null = null;
    if (existsSync(`${dir}/type`)) {
      pmu = {
        type: Number(readFileSync(`${dir}/type`, 'utf8').trim()),
        retprobeBit: formatBit(`${dir}/format/retprobe`) ?? 0,
      };
      const ref = formatBit(`${dir}/format/ref_ctr_offset`);
      if (ref !== undefined) pmu.refCtrShift = ref;
    }
    pmuCache.set(name, pmu);
  }
  return pmuCache.get(name) ?? undefined;
}

export interface UprobeOptions {
  retprobe?: boolean;
  /** Only this process (-1: every process mapping the file). */
  pid?: number;
  /** File offset of a USDT semaphore the kernel increments while attached. */
  refCtrOffset?: number;
}

/**
 * A uprobe (or uretprobe) at `offset` in the file `path`, created through the
 * uprobe PMU: config1 points at the path, config2 is the file offset.
 */
export function openUprobe(path: string, offset: number | bigint, opts: UprobeOptions = {}): PerfEvent {
  const kind = opts.retprobe ? 'uretprobe' : 'uprobe';
  const what = `${kind} ${path}:0x${BigInt(offset).toString(16)}`;
  const pmu = probePmu('uprobe');
  if (!pmu) throw new NotSupportedError('uprobe', `cannot open ${what}: this kernel has no uprobe PMU (${PMU_DIR}/uprobe)`);
  let config = opts.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (opts.refCtrOffset) {
    if (pmu.refCtrShift === undefined) {
      throw new NotSupportedError('uprobe refcount', `cannot open ${what} with a USDT semaphore: this kernel's uprobe PMU has no ref_ctr_offset`);
    }
    config |= BigInt(opts.refCtrOffset) << BigInt(pmu.refCtrShift);
  }
  const pathBuf = cString(path);
  const pid = opts.pid ?? -1;
  return openPerfEvent(pmu.type, config, {
    pid,
    cpu: pid === -1 ? 0 : -1,
    config1: pathBuf,
    config2: BigInt(offset),
  }, what);
}

export interface KprobeOptions {
  retprobe?: boolean;
  /** Offset into the function (kprobes only). */
  offset?: number;
}

/**
 * A kprobe (or kretprobe) on function `func` (a name, or an address as a
 * bigint) through the kprobe PMU: config1 points at the name and config2 is
 * the offset, or config1 is 0 and config2 the address.
 */
export function openKprobe(func: string | bigint, opts: KprobeOptions = {}): PerfEvent {
  const kind = opts.retprobe ? 'kretprobe' : 'kprobe';
  const what = typeof func === 'string'
    ? `${kind} ${func}${opts.offset ? `+${opts.offset}` : ''}`
    : `${kind} 0x${func.toString(16)}`;
  const pmu = probePmu('kprobe');
  if (!pmu) {
    throw new NotSupportedError('kprobe', `cannot open ${what}: this kernel has no kprobe PMU (${PMU_DIR}/kprobe); it was built without CONFIG_KPROBES`);
  }
  const config = opts.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (typeof func === 'string') {
    const name = cString(func);
    return openPerfEvent(pmu.type, config, { config1: name, config2: BigInt(opts.offset ?? 0) }, what);
  }
  return openPerfEvent(pmu.type, config, { config1: 0n, config2: func }, what);
}

/** The bpf-output event a perf buffer reads on `cpu`: samples carry raw bpf_perf_event_output data. */
export function openBpfOutput(cpu: number, wakeupEvents = 1): PerfEvent {
  return openPerfEvent(PerfType.SOFTWARE, SwEvent.BPF_OUTPUT, {
    pid: -1,
    cpu,
    disabled: false,
    period: 1,
    sampleType: SampleType.RAW,
    wakeupEvents,
  }, `bpf-output on cpu ${cpu}`);
}

/** Whether a hardware PMU is registered (x86 "cpu", hybrid "cpu_core", arm "armv8_*"). */
export function hasHardwarePmuDevice(): boolean {
  for (const n of ['cpu', 'cpu_core', 'cpu_atom', 'armv8_pmuv3', 'armv8_pmuv3_0']) if (existsSync(`${PMU_DIR}/${n}`)) return true;
  return false;
}
