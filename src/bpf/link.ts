// Attaching loaded programs. Where the kernel has bpf links (5.15+ for perf
// events) the attachment is an fd of its own, detached by closing it and
// visible to `bpftool link`; older kernels get the perf ioctl, behind the same
// Link object, so callers never care which one they got.
import { Attr, InfoAttr, LinkCreateAttr, LinkDetachAttr, LinkInfo, RawTracepointAttr, cString } from './attr.js';
import { trackFd, untrackFd } from './fds.js';
import type { PerfEvent } from './perf.js';
import { AttachType } from './program.js';
import { BpfCmd, SysError, addressOf, bpf, bpfTry, close, errno } from './sys.js';

/** A program given as a Program or a bare fd. */
export type ProgRef = number | { readonly fd: number; readonly expectedAttachType?: number; readonly name?: string };

const progFd = (p: ProgRef): number => (typeof p === 'number' ? p : p.fd);
const progLabel = (p: ProgRef): string => (typeof p === 'number' ? `fd ${p}` : p.name ? `'${p.name}'` : `fd ${p.fd}`);

/** BPF_F_KPROBE_MULTI_RETURN: the kprobe_multi link makes return probes. */
export const KPROBE_MULTI_RETURN = 1;

/** BPF_F_UPROBE_MULTI_RETURN: the uprobe_multi link makes return probes. */
export const UPROBE_MULTI_RETURN = 1;

export type LinkKind = 'perf_event' | 'perf_ioctl' | 'raw_tracepoint' | 'tracing' | 'kprobe_multi' | 'uprobe_multi';

export interface LinkInfoResult {
  id: number;
  type: number;
  progId: number;
}

export class Link {
  private closed = false;

  /**
   * `fd` is the bpf link fd, or -1 for an ioctl attachment, which lives as
   * long as its perf event; `event` is closed together with the link.
   */
  constructor(
    readonly fd: number,
    readonly kind: LinkKind,
    readonly what: string,
    private readonly event?: PerfEvent,
  ) {
    if (fd >= 0) {
      trackFd(fd, `link ${what}`, () => {
        this.closed = true;
      });
    }
  }

  /** BPF_LINK_INFO's id (what `bpftool link show` lists), or undefined for ioctl attachments. */
  info(): LinkInfoResult | undefined {
    if (this.fd < 0) return undefined;
    const info = Buffer.alloc(LinkInfo.size);
    const a = new Attr().u32(InfoAttr.bpfFd, this.fd).u32(InfoAttr.infoLen, info.length).ptr(InfoAttr.info, info);
    bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a.buf);
    return { id: info.readUInt32LE(LinkInfo.id), type: info.readUInt32LE(LinkInfo.type), progId: info.readUInt32LE(LinkInfo.progId) };
  }

  /**
   * Stops the program from running while keeping the fd (BPF_LINK_DETACH);
   * an ioctl attachment is disabled instead. close() is still needed.
   */
  detach(): void {
    if (this.closed) return;
    if (this.fd >= 0) {
      const r = bpfTry(BpfCmd.LINK_DETACH, new Attr().u32(LinkDetachAttr.linkFd, this.fd).buf);
      // Link types without a detach operation answer EOPNOTSUPP: closing is the only way.
      if (r < 0 && r !== -errno.EOPNOTSUPP && r !== -errno.EINVAL) throw new SysError(`detaching ${this.what}`, -r);
    } else if (this.event && !this.event.isClosed) {
      this.event.disable();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) {
      untrackFd(this.fd);
      close(this.fd);
    }
    this.event?.close();
  }
}

/** Set when a kernel answered BPF_LINK_CREATE for perf events with EINVAL (before 5.15). */
let perfLinkUnsupported = false;

export interface PerfAttachOptions {
  /** Value bpf_get_attach_cookie() returns in the program (links only, 5.15+). */
  cookie?: bigint;
  /** Skip bpf links and use PERF_EVENT_IOC_SET_BPF (for tests of the fallback). */
  forceIoctl?: boolean;
  /** Leave the event disabled after attaching. */
  noEnable?: boolean;
}

/**
 * Attaches `prog` to a perf event (tracepoint, uprobe, kprobe, software or
 * hardware event) and enables the event. The Link owns the event: closing
 * the link closes it too. Example:
 *   const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_read')));
 * The program type must match the event (TRACEPOINT for tracepoints, KPROBE
 * for uprobes/kprobes, PERF_EVENT for software/hardware events), or the
 * kernel answers EINVAL.
 */
export function attachPerfEvent(prog: ProgRef, event: PerfEvent, opts: PerfAttachOptions = {}): Link {
  const what = `${event.what} <- program ${progLabel(prog)}`;
  try {
    let link: Link | undefined;
    if (!opts.forceIoctl && !perfLinkUnsupported) {
      const a = new Attr()
        .u32(LinkCreateAttr.progFd, progFd(prog))
        .u32(LinkCreateAttr.targetFd, event.fd)
        .u32(LinkCreateAttr.attachType, AttachType.PERF_EVENT);
      if (opts.cookie !== undefined) a.u64(LinkCreateAttr.perfEventCookie, opts.cookie);
      const r = bpfTry(BpfCmd.LINK_CREATE, a.buf);
      if (r >= 0) {
        link = new Link(r, 'perf_event', what, event);
      } else if (r !== -errno.EINVAL || opts.cookie !== undefined) {
        throw new SysError(`attaching ${what}`, -r);
      }
    }
    if (!link) {
      // EINVAL from LINK_CREATE is either an old kernel or a program/event
      // mismatch; the ioctl tells them apart by failing the same way.
      event.setBpf(progFd(prog));
      if (!opts.forceIoctl) perfLinkUnsupported = true;
      link = new Link(-1, 'perf_ioctl', what, event);
    }
    if (!opts.noEnable) event.enable();
    return link;
  } catch (e) {
    event.close();
    throw e;
  }
}

/**
 * BPF_RAW_TRACEPOINT_OPEN: attaches a RAW_TRACEPOINT program to the kernel
 * tracepoint `name` (e.g. "sched_switch", no category).
 */
export function attachRawTracepoint(prog: ProgRef, name: string, cookie?: bigint): Link {
  const a = new Attr().ptr(RawTracepointAttr.name, cString(name)).u32(RawTracepointAttr.progFd, progFd(prog));
  if (cookie !== undefined) a.u64(RawTracepointAttr.cookie, cookie);
  const what = `raw tracepoint ${name} <- program ${progLabel(prog)}`;
  let fd: number;
  try {
    fd = bpf(BpfCmd.RAW_TRACEPOINT_OPEN, a.buf);
  } catch (e) {
    if (e instanceof SysError) throw new SysError(`attaching ${what}`, e.errno);
    throw e;
  }
  return new Link(fd, 'raw_tracepoint', what);
}

export interface TracingAttachOptions {
  /** Defaults to the program's expected attach type (TRACE_FENTRY, TRACE_FEXIT, MODIFY_RETURN...). */
  attachType?: number;
  /** 0 (default): the attach_btf_id given at load. */
  targetBtfId?: number;
  cookie?: bigint;
}

/**
 * Attaches a TRACING program (fentry/fexit/fmod_ret) loaded with an
 * attach_btf_id. Kernels before link_create for tracing (5.x) get
 * BPF_RAW_TRACEPOINT_OPEN with no name, which does the same.
 */
export function attachTracing(prog: ProgRef, opts: TracingAttachOptions = {}): Link {
  const attachType = opts.attachType ?? (typeof prog === 'number' ? undefined : prog.expectedAttachType);
  if (attachType === undefined) throw new TypeError('attachTracing: the attach type is unknown for a bare program fd; pass opts.attachType');
  const what = `tracing program ${progLabel(prog)}`;
  const a = new Attr()
    .u32(LinkCreateAttr.progFd, progFd(prog))
    .u32(LinkCreateAttr.attachType, attachType)
    .u32(LinkCreateAttr.tracingTargetBtfId, opts.targetBtfId ?? 0);
  if (opts.cookie !== undefined) a.u64(LinkCreateAttr.tracingCookie, opts.cookie);
  let r = bpfTry(BpfCmd.LINK_CREATE, a.buf);
  if (r === -errno.EINVAL && opts.cookie === undefined && !opts.targetBtfId) {
    r = bpfTry(BpfCmd.RAW_TRACEPOINT_OPEN, new Attr().u32(RawTracepointAttr.progFd, progFd(prog)).buf);
  }
  if (r < 0) throw new SysError(`attaching ${what}`, -r);
  return new Link(r, 'tracing', what);
}

export interface KprobeMultiOptions {
  /** Kernel function names... */
  symbols?: string[];
  /** ...or addresses. */
  addrs?: bigint[];
  /** One bpf_get_attach_cookie() value per symbol/address. */
  cookies?: bigint[];
  retprobe?: boolean;
}

/**
 * BPF_TRACE_KPROBE_MULTI: one link attaching a KPROBE program (loaded with
 * expected attach type TRACE_KPROBE_MULTI) to many functions at once, which
 * is how wildcard kprobes avoid one perf event per function.
 */
export function attachKprobeMulti(prog: ProgRef, opts: KprobeMultiOptions): Link {
  const n = opts.symbols?.length ?? opts.addrs?.length ?? 0;
  if (n === 0) throw new RangeError('attachKprobeMulti: no symbols or addresses given');
  if (opts.symbols && opts.addrs) throw new RangeError('attachKprobeMulti: give symbols or addresses, not both');
  if (opts.cookies && opts.cookies.length !== n) throw new RangeError(`attachKprobeMulti: ${opts.cookies.length} cookies for ${n} functions`);
  const a = new Attr()
    .u32(LinkCreateAttr.progFd, progFd(prog))
    .u32(LinkCreateAttr.attachType, AttachType.TRACE_KPROBE_MULTI)
    .u32(LinkCreateAttr.kprobeMultiFlags, opts.retprobe ? KPROBE_MULTI_RETURN : 0)
    .u32(LinkCreateAttr.kprobeMultiCnt, n);
  if (opts.symbols) {
    // The kernel reads the names through an array of char *.
    const names = opts.symbols.map(cString);
    const ptrs = Buffer.alloc(8 * n);
    names.forEach((str, i) => ptrs.writeBigUInt64LE(addressOf(str), i * 8));
    a.ptr(LinkCreateAttr.kprobeMultiSyms, ptrs).keep(...names);
  } else {
    const addrs = Buffer.alloc(8 * n);
    opts.addrs!.forEach((v, i) => addrs.writeBigUInt64LE(v, i * 8));
    a.ptr(LinkCreateAttr.kprobeMultiAddrs, addrs);
  }
  if (opts.cookies) {
    const c = Buffer.alloc(8 * n);
    opts.cookies.forEach((v, i) => c.writeBigUInt64LE(BigInt.asUintN(64, v), i * 8));
    a.ptr(LinkCreateAttr.kprobeMultiCookies, c);
  }
  const first = opts.symbols?.[0] ?? `0x${opts.addrs![0]!.toString(16)}`;
  const what = `kprobe_multi ${first}${n > 1 ? ` and ${n - 1} more` : ''} <- program ${progLabel(prog)}`;
  const r = bpfTry(BpfCmd.LINK_CREATE, a.buf);
  if (r < 0) throw new SysError(`attaching ${what}`, -r);
  return new Link(r, 'kprobe_multi', what);
}

export interface UprobeMultiOptions {
  /** The binary or library: one file per link. */
  path: string;
  /** File offsets of the probed instructions. */
  offsets: bigint[];
  /** USDT semaphore file offsets, one per offset (0: none). */
  refCtrOffsets?: bigint[];
  cookies?: bigint[];
  retprobe?: boolean;
  /** Only this process (and its threads) fire the probes. */
  pid?: number;
}

/**
 * BPF_TRACE_UPROBE_MULTI (6.6): one link attaching a KPROBE program (loaded
 * with expected attach type TRACE_UPROBE_MULTI) at many offsets of one file.
 * Besides saving a perf event per probe, the kernel detaches all of them
 * after one RCU grace period instead of one each (a minute or two for a
 * thousand perf-event uprobes).
 */
export function attachUprobeMulti(prog: ProgRef, opts: UprobeMultiOptions): Link {
  const n = opts.offsets.length;
  if (n === 0) throw new RangeError('attachUprobeMulti: no offsets given');
  const u64s = (vs: bigint[] | undefined, what: string): Buffer | undefined => {
    if (!vs) return undefined;
    if (vs.length !== n) throw new RangeError(`attachUprobeMulti: ${vs.length} ${what} for ${n} offsets`);
    const b = Buffer.alloc(8 * n);
    vs.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, v), i * 8));
    return b;
  };
  const path = cString(opts.path);
  const a = new Attr()
    .u32(LinkCreateAttr.progFd, progFd(prog))
    .u32(LinkCreateAttr.attachType, AttachType.TRACE_UPROBE_MULTI)
    .ptr(LinkCreateAttr.uprobeMultiPath, path)
    .ptr(LinkCreateAttr.uprobeMultiOffsets, u64s(opts.offsets, 'offsets')!)
    .u32(LinkCreateAttr.uprobeMultiCnt, n)
    .u32(LinkCreateAttr.uprobeMultiFlags, opts.retprobe ? UPROBE_MULTI_RETURN : 0)
    .u32(LinkCreateAttr.uprobeMultiPid, opts.pid && opts.pid > 0 ? opts.pid : 0);
  const refs = u64s(opts.refCtrOffsets, 'semaphore offsets');
  if (refs) a.ptr(LinkCreateAttr.uprobeMultiRefCtrOffsets, refs);
  const cookies = u64s(opts.cookies, 'cookies');
  if (cookies) a.ptr(LinkCreateAttr.uprobeMultiCookies, cookies);
  const what = `uprobe_multi ${opts.path}:0x${opts.offsets[0].toString(16)}${n > 1 ? ` and ${n - 1} more` : ''} <- program ${progLabel(prog)}`;
  const r = bpfTry(BpfCmd.LINK_CREATE, a.buf);
  if (r < 0) throw new SysError(`attaching ${what}`, -r);
  return new Link(r, 'uprobe_multi', what);
}
