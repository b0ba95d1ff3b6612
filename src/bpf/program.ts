// Loading programs and running them from user space. A load is tried without
// a verifier log first: most loads succeed, and a log costs the kernel time
// and us a large buffer. Only a failed load is repeated with the log, which
// then becomes the error the user sees.
import { readFileSync } from 'node:fs';
import { os } from '../lazy.js';
import { Attr, FUNC_INFO_REC_SIZE, InfoAttr, ProgInfo, ProgLoadAttr, TestRunAttr, cString, objName } from './attr.js';
import { trackFd, untrackFd } from './fds.js';
import { BpfCmd, SysError, bpf, bpfTry, close, errno } from './sys.js';
import { isDigit } from '../chars.js';

/** enum bpf_prog_type. */
export const ProgType = {
  UNSPEC: 0, SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7,
  CGROUP_SKB: 8, CGROUP_SOCK: 9, LWT_IN: 10, LWT_OUT: 11, LWT_XMIT: 12, SOCK_OPS: 13, SK_SKB: 14,
  CGROUP_DEVICE: 15, SK_MSG: 16, RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, LWT_SEG6LOCAL: 19, LIRC_MODE2: 20,
  SK_REUSEPORT: 21, FLOW_DISSECTOR: 22, CGROUP_SYSCTL: 23, RAW_TRACEPOINT_WRITABLE: 24, CGROUP_SOCKOPT: 25,
  TRACING: 26, STRUCT_OPS: 27, EXT: 28, LSM: 29, SK_LOOKUP: 30, SYSCALL: 31, NETFILTER: 32,
} as const;

const PROG_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ProgType).map(([k, v]) => [v, k.toLowerCase()]),
);

export function progTypeName(type: number): string {
  return PROG_TYPE_NAMES[type] ?? `type ${type}`;
}

/** enum bpf_attach_type (the ones after BPF_LSM_CGROUP are newer than Debian's headers). */
export const AttachType = {
  CGROUP_INET_INGRESS: 0, CGROUP_INET_EGRESS: 1, CGROUP_INET_SOCK_CREATE: 2, CGROUP_SOCK_OPS: 3,
  SK_SKB_STREAM_PARSER: 4, SK_SKB_STREAM_VERDICT: 5, CGROUP_DEVICE: 6, SK_MSG_VERDICT: 7, CGROUP_INET4_BIND: 8,
  CGROUP_INET6_BIND: 9, CGROUP_INET4_CONNECT: 10, CGROUP_INET6_CONNECT: 11, CGROUP_INET4_POST_BIND: 12,
  CGROUP_INET6_POST_BIND: 13, CGROUP_UDP4_SENDMSG: 14, CGROUP_UDP6_SENDMSG: 15, LIRC_MODE2: 16,
  FLOW_DISSECTOR: 17, CGROUP_SYSCTL: 18, CGROUP_UDP4_RECVMSG: 19, CGROUP_UDP6_RECVMSG: 20, CGROUP_GETSOCKOPT: 21,
  CGROUP_SETSOCKOPT: 22, TRACE_RAW_TP: 23, TRACE_FENTRY: 24, TRACE_FEXIT: 25, MODIFY_RETURN: 26, LSM_MAC: 27,
  TRACE_ITER: 28, CGROUP_INET4_GETPEERNAME: 29, CGROUP_INET6_GETPEERNAME: 30, CGROUP_INET4_GETSOCKNAME: 31,
  CGROUP_INET6_GETSOCKNAME: 32, XDP_DEVMAP: 33, CGROUP_INET_SOCK_RELEASE: 34, XDP_CPUMAP: 35, SK_LOOKUP: 36,
  XDP: 37, SK_SKB_VERDICT: 38, SK_REUSEPORT_SELECT: 39, SK_REUSEPORT_SELECT_OR_MIGRATE: 40, PERF_EVENT: 41,
  TRACE_KPROBE_MULTI: 42, LSM_CGROUP: 43, STRUCT_OPS: 44, NETFILTER: 45, TCX_INGRESS: 46, TCX_EGRESS: 47,
  TRACE_UPROBE_MULTI: 48, CGROUP_UNIX_CONNECT: 49, CGROUP_UNIX_SENDMSG: 50, CGROUP_UNIX_RECVMSG: 51,
  CGROUP_UNIX_GETPEERNAME: 52, CGROUP_UNIX_GETSOCKNAME: 53, NETKIT_PRIMARY: 54, NETKIT_PEER: 55,
  TRACE_KPROBE_SESSION: 56,
} as const;

/** prog_flags for BPF_PROG_LOAD. */
export const ProgFlag = { STRICT_ALIGNMENT: 1, ANY_ALIGNMENT: 2, TEST_RND_HI32: 4, TEST_STATE_FREQ: 8, SLEEPABLE: 16, XDP_HAS_FRAGS: 32 } as const;

/** flags for BPF_PROG_TEST_RUN. */
export const TestRunFlag = { RUN_ON_CPU: 1, XDP_LIVE_FRAMES: 2 } as const;

export interface ProgramSpec {
  type: number;
  /** Encoded instructions, 8 bytes each (assemble(...).bytes). */
  insns: Buffer | Uint8Array;
  /** Shown by bpftool; sanitized and cut to 15 characters. */
  name?: string;
  /** Defaults to 'GPL': most tracing helpers are GPL-only. */
  license?: string;
  expectedAttachType?: number;
  /** BTF id of the function/tracepoint a tracing program attaches to. */
  attachBtfId?: number;
  /** Module BTF object fd when attachBtfId is in a module's BTF. */
  attachBtfObjFd?: number;
  /** Target program fd for freplace / fentry on BPF programs. */
  attachProgFd?: number;
  /** Defaults to the running kernel's LINUX_VERSION_CODE (kprobe programs on old kernels demand it). */
  kernVersion?: number;
  flags?: number;
  /** fds that BPF_PSEUDO_MAP_IDX / kfunc btf_fd slots index. */
  fdArray?: Int32Array;
  /** Start with a verifier log at this level (1 or 2) instead of only on failure. */
  logLevel?: number;
  /** BTF object (btfgen.ts loadBtf) that funcInfo's type ids refer to. */
  btfFd?: number;
  /**
   * One record per subprogram, in instruction order, the main program first
   * at 0: the verifier demands them once the program takes a subprogram's
   * address (bpf_for_each_map_elem callbacks).
   */
  funcInfo?: { insnOff: number; typeId: number }[];
}

const MIN_LOG = 64 * 1024;
const MAX_LOG = 16 * 1024 * 1024;

/**
 * A program the kernel refused. `log` is the verifier's explanation (empty
 * when the refusal came before verification, e.g. EPERM) and `insnIndex` the
 * instruction it was looking at when it gave up, which the code generator maps
 * back to the source construct that emitted it.
 */
export class VerifierError extends SysError {
  readonly log: string;
  readonly insnIndex: number | null;
  readonly programName: string;
  /** The line of the log that says what is wrong. */
  readonly reason: string;

  constructor(programName: string, errnum: number, log: string) {
    super(`loading program ${programName || '(unnamed)'}`, errnum);
    this.name = 'VerifierError';
    this.log = log;
    this.programName = programName;
    this.insnIndex = failingInsn(log);
    this.reason = logReason(log);
    const at = this.insnIndex === null ? '' : ` at instruction ${this.insnIndex}`;
    this.message = this.reason
      ? `${this.op}: ${this.code}: ${this.reason}${at}`
      : `${this.op}: ${this.code}${at}`;
  }
}

const STATS_LINE = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|\s*$)/;

/** The last log line that is not a statistics line: where the verifier says what failed. */
export function logReason(log: string): string {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trimEnd();
    if (!STATS_LINE.test(l)) return l;
  }
  return '';
}

/** Index of the last instruction the verifier printed ("12: (85) call ..."), or null. */
export function failingInsn(log: string): number | null {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(\d+): \([0-9a-f]{2}\)/.exec(lines[i]!);
    if (m) return Number(m[1]);
  }
  return null;
}

let versionCode: number | undefined;

/** uname's release, read from procfs: node:os costs a third of a millisecond to load. */
function kernelRelease(): string {
  try {
    // utf8: the one encoding readFileSync takes without its option-checking path.
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return os().release();
  }
}

/** LINUX_VERSION_CODE of the running kernel, from its release string (6.18.44 -> 0x06122c). */
export function kernelVersionCode(): number {
  if (versionCode !== undefined) return versionCode;
  // MAJOR.MINOR[.PATCH] at the start; anything after is ignored.
  const rel = kernelRelease();
  const nums: number[] = [];
  let i = 0;
  while (nums.length < 3) {
    let j = i;
    while (isDigit(rel.charCodeAt(j))) j++;
    if (j === i) break;
    nums.push(Number(rel.slice(i, j)));
    if (rel[j] !== '.') break;
    i = j + 1;
  }
  versionCode = nums.length >= 2 ? (nums[0] << 16) + (nums[1] << 8) + Math.min(nums[2] ?? 0, 255) : 0;
  return versionCode;
}

export interface LoadAttempt {
  /** The program fd, or -1. */
  fd: number;
  /** errno of the failure, 0 on success. */
  errno: number;
  log: string;
  /** The log size the kernel wanted, when it said so (6.4+, on ENOSPC). */
  trueSize?: number;
}

function loadAttr(spec: ProgramSpec, name: string, logLevel: number, log: Buffer | null): Attr {
  if (spec.insns.length === 0 || spec.insns.length % 8 !== 0) {
    throw new RangeError(`program ${name}: ${spec.insns.length} bytes of instructions is not a positive multiple of 8`);
  }
  const a = new Attr()
    .u32(ProgLoadAttr.progType, spec.type)
    .u32(ProgLoadAttr.insnCnt, spec.insns.length / 8)
    .ptr(ProgLoadAttr.insns, spec.insns)
    .ptr(ProgLoadAttr.license, cString(spec.license ?? 'GPL'))
    .u32(ProgLoadAttr.kernVersion, spec.kernVersion ?? kernelVersionCode())
    .u32(ProgLoadAttr.progFlags, spec.flags ?? 0)
    .chars(ProgLoadAttr.progName, 16, name)
    .u32(ProgLoadAttr.expectedAttachType, spec.expectedAttachType ?? 0)
    .u32(ProgLoadAttr.attachBtfId, spec.attachBtfId ?? 0);
  if (spec.attachProgFd !== undefined) a.u32(ProgLoadAttr.attachProgFd, spec.attachProgFd);
  else if (spec.attachBtfObjFd !== undefined) a.u32(ProgLoadAttr.attachBtfObjFd, spec.attachBtfObjFd);
  if (spec.fdArray) a.ptr(ProgLoadAttr.fdArray, spec.fdArray);
  if (spec.btfFd !== undefined) a.u32(ProgLoadAttr.progBtfFd, spec.btfFd);
  if (spec.funcInfo?.length) {
    const fi = Buffer.alloc(spec.funcInfo.length * FUNC_INFO_REC_SIZE);
    spec.funcInfo.forEach((r, i) => {
      fi.writeUInt32LE(r.insnOff, i * FUNC_INFO_REC_SIZE);
      fi.writeUInt32LE(r.typeId, i * FUNC_INFO_REC_SIZE + 4);
    });
    a.u32(ProgLoadAttr.funcInfoRecSize, FUNC_INFO_REC_SIZE).ptr(ProgLoadAttr.funcInfo, fi).u32(ProgLoadAttr.funcInfoCnt, spec.funcInfo.length);
  }
  if (log) {
    a.u32(ProgLoadAttr.logLevel, logLevel).u32(ProgLoadAttr.logSize, log.length).ptr(ProgLoadAttr.logBuf, log);
  }
  return a;
}

function logText(log: Buffer): string {
  const end = log.indexOf(0);
  return log.toString('utf8', 0, end < 0 ? log.length : end);
}

/**
 * One BPF_PROG_LOAD with a log of `logSize` bytes at `logLevel` (no log when
 * logSize is 0), returning the outcome instead of throwing. Feature probes
 * use it to read "unknown func" out of logs; Program.load builds on it.
 */
export function tryLoad(spec: ProgramSpec, logLevel = 0, logSize = 0): LoadAttempt {
  const name = objName(spec.name ?? '');
  const log = logSize > 0 ? Buffer.alloc(logSize) : null;
  const a = loadAttr(spec, name, logLevel, log);
  let r = bpfTry(BpfCmd.PROG_LOAD, a.buf);
  // The verifier gives up with EAGAIN when a signal arrives (SIGCHLD from a
  // -c command, a profiler's SIGPROF): not the program's fault, so retry, as
  // libbpf does.
  for (let i = 0; i < 5 && r === -errno.EAGAIN; i++) r = bpfTry(BpfCmd.PROG_LOAD, a.buf);
  if (r >= 0) return { fd: r, errno: 0, log: log ? logText(log) : '' };
  const e: LoadAttempt = { fd: -1, errno: -r, log: log ? logText(log) : '' };
  if (log && -r === errno.ENOSPC) e.trueSize = a.getU32(ProgLoadAttr.logTrueSize);
  return e;
}

export interface TestRunOptions {
  /** Context passed to the program (raw tracepoint programs: up to 12 u64 arguments). */
  ctx?: Buffer;
  /** Packet data, for the program types that take it. */
  data?: Buffer;
  /** Room for output data / context, when the program type writes them back. */
  dataOutSize?: number;
  ctxOutSize?: number;
  /** Run this many times (program types that support repeat; raw tracepoints do not). */
  repeat?: number;
  flags?: number;
  /** With TestRunFlag.RUN_ON_CPU: where to run (raw tracepoints). */
  cpu?: number;
}

export interface TestRunResult {
  retval: number;
  /** Average run time in ns, where the kernel measures it. */
  duration: number;
  dataOut?: Buffer;
  ctxOut?: Buffer;
}

export interface ProgramInfo {
  id: number;
  type: number;
  name: string;
  tag: string;
  xlatedLen: number;
  /** Cumulative, only while kernel.bpf_stats_enabled (or an enableStats() fd) is on. */
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
}

export class Program {
  readonly fd: number;
  readonly type: number;
  readonly name: string;
  readonly expectedAttachType: number;
  readonly attachBtfId: number;
  readonly insnCount: number;
  /** The verifier log when the program was loaded with logLevel; '' otherwise. */
  readonly log: string;
  private closed = false;

  private constructor(fd: number, spec: ProgramSpec, name: string, log: string) {
    this.fd = fd;
    this.type = spec.type;
    this.name = name;
    this.expectedAttachType = spec.expectedAttachType ?? 0;
    this.attachBtfId = spec.attachBtfId ?? 0;
    this.insnCount = spec.insns.length / 8;
    this.log = log;
    trackFd(fd, `program ${name}`, () => {
      this.closed = true;
    });
  }

  /**
   * Loads a program. Example:
   *   const p = Program.load({ type: ProgType.TRACEPOINT, name: 'count', insns: assemble(insns).bytes });
   * On refusal throws VerifierError carrying the verifier log: the load is
   * repeated with logging, the buffer doubling on ENOSPC up to 16 MiB (past
   * that the kernel keeps the log's tail, which holds the error).
   */
  static load(spec: ProgramSpec): Program {
    const name = objName(spec.name ?? '');
    const first = spec.logLevel ? tryLoad(spec, spec.logLevel, MIN_LOG) : tryLoad(spec);
    if (first.fd >= 0) return Program.adopt(first.fd, spec, name, first.log);
    // Refusals before verification (EPERM, ...) leave the log empty, but the
    // retry is cheap and is the only way to learn which kind this is.
    let size = MIN_LOG;
    let attempt: LoadAttempt;
    for (;;) {
      attempt = tryLoad(spec, spec.logLevel || 1, size);
      if (attempt.fd >= 0) return Program.adopt(attempt.fd, spec, name, spec.logLevel ? attempt.log : '');
      if (attempt.errno !== errno.ENOSPC || size >= MAX_LOG) break;
      size = Math.min(MAX_LOG, Math.max(size * 2, attempt.trueSize ?? 0));
    }
    // The log-less attempt's errno is the program's own problem; a final
    // ENOSPC would only be about the log's size.
    const err = first.errno !== errno.ENOSPC ? first.errno : attempt.errno;
    throw new VerifierError(name, err, attempt.log);
  }

  private static adopt(fd: number, spec: ProgramSpec, name: string, log: string): Program {
    return new Program(fd, spec, name, log);
  }

  /**
   * BPF_PROG_TEST_RUN. This is how BEGIN/END run: a raw tracepoint program
   * executed once from user space with a context of u64 arguments.
   */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const a = new Attr().u32(TestRunAttr.progFd, this.fd);
    const dataOut = opts.dataOutSize ? Buffer.alloc(opts.dataOutSize) : undefined;
    const ctxOut = opts.ctxOutSize ? Buffer.alloc(opts.ctxOutSize) : undefined;
    if (opts.data) a.u32(TestRunAttr.dataSizeIn, opts.data.length).ptr(TestRunAttr.dataIn, opts.data);
    if (dataOut) a.u32(TestRunAttr.dataSizeOut, dataOut.length).ptr(TestRunAttr.dataOut, dataOut);
    if (opts.ctx) a.u32(TestRunAttr.ctxSizeIn, opts.ctx.length).ptr(TestRunAttr.ctxIn, opts.ctx);
    if (ctxOut) a.u32(TestRunAttr.ctxSizeOut, ctxOut.length).ptr(TestRunAttr.ctxOut, ctxOut);
    if (opts.repeat) a.u32(TestRunAttr.repeat, opts.repeat);
    if (opts.flags) a.u32(TestRunAttr.flags, opts.flags);
    if (opts.cpu !== undefined) a.u32(TestRunAttr.cpu, opts.cpu);
    const r = bpfTry(BpfCmd.PROG_TEST_RUN, a.buf);
    if (r < 0) throw new SysError(`test run of program ${this.name}`, -r);
    const res: TestRunResult = { retval: a.getU32(TestRunAttr.retval), duration: a.getU32(TestRunAttr.duration) };
    if (dataOut) res.dataOut = dataOut.subarray(0, a.getU32(TestRunAttr.dataSizeOut));
    if (ctxOut) res.ctxOut = ctxOut.subarray(0, a.getU32(TestRunAttr.ctxSizeOut));
    return res;
  }

  info(): ProgramInfo {
    return programInfo(this.fd);
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

/** BPF_OBJ_GET_INFO_BY_FD for a program fd. */
export function programInfo(fd: number): ProgramInfo {
  const info = Buffer.alloc(ProgInfo.size);
  const a = new Attr().u32(InfoAttr.bpfFd, fd).u32(InfoAttr.infoLen, info.length).ptr(InfoAttr.info, info);
  bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a.buf);
  const nameEnd = info.indexOf(0, ProgInfo.name);
  return {
    id: info.readUInt32LE(ProgInfo.id),
    type: info.readUInt32LE(ProgInfo.type),
    name: info.toString('latin1', ProgInfo.name, nameEnd < 0 || nameEnd > ProgInfo.name + 16 ? ProgInfo.name + 16 : nameEnd),
    tag: info.toString('hex', ProgInfo.tag, ProgInfo.tag + 8),
    xlatedLen: info.readUInt32LE(ProgInfo.xlatedProgLen),
    runTimeNs: info.readBigUInt64LE(ProgInfo.runTimeNs),
    runCnt: info.readBigUInt64LE(ProgInfo.runCnt),
    recursionMisses: info.readBigUInt64LE(ProgInfo.recursionMisses),
    verifiedInsns: info.readUInt32LE(ProgInfo.verifiedInsns),
  };
}

/**
 * BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): run_time_ns/run_cnt are collected
 * while the returned fd is open, without touching the kernel.bpf_stats_enabled
 * sysctl (which another tool may own). Close it with close() from fds users.
 */
export function enableStats(): number {
  const a = new Attr().u32(0, 0);
  return trackFd(bpf(BpfCmd.ENABLE_STATS, a.buf), 'bpf stats');
}
