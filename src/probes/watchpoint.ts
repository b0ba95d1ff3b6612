// watchpoint:ADDR:LEN:MODE: a hardware breakpoint (debug register) on LEN
// bytes at user address ADDR of the -p process, firing on reads (r), writes
// (w) or execution (x). x86 has no read-only watchpoints: `r` alone is
// refused by the kernel, `rw` works. The program runs after the access.
import { Attr, PERF_ATTR_SIZE, PerfAttr, PerfFlag } from '../bpf/attr.js';
import { PerfEvent, PerfType } from '../bpf/perf.js';
import { attachPerfEvent } from '../bpf/link.js';
import { ProgType } from '../bpf/program.js';
import { SysError, errno, perfEventOpen } from '../bpf/sys.js';
import { ProbeError, type Provider, type ProbeTarget } from './provider.js';

/** HW_BREAKPOINT_R/W/X of linux/hw_breakpoint.h. */
const BP_BITS: Record<string, number> = { r: 1, w: 2, x: 4 };

interface WatchData extends Record<string, unknown> {
  addr: bigint;
  len: number;
  bpType: number;
}

export function parseWatchpoint(parts: string[], pid: number | undefined): WatchData & { shown: string } {
  if (parts.length !== 3) throw new ProbeError('watchpoint probe type requires 3 arguments', 'HINT: watchpoint:ADDRESS:LENGTH:MODE, e.g. watchpoint:0x10000000:8:w');
  const [addrText, lenText, mode] = parts;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(addrText)) {
    throw new ProbeError(`watchpoint address must be a number, not '${addrText}'`, 'HINT: watching a function argument (watchpoint:FUNC+ARG) is not supported; give the address');
  }
  const addr = BigInt(addrText);
  if (!/^\d+$/.test(lenText) || ![1, 2, 4, 8].includes(Number(lenText))) throw new ProbeError(`watchpoint length must be 1, 2, 4 or 8, not '${lenText}'`);
  if (!/^[rwx]+$/.test(mode) || new Set(mode).size !== mode.length) throw new ProbeError(`watchpoint mode must be a combination of r, w and x, not '${mode}'`);
  const bpType = [...mode].reduce((t, c) => t | BP_BITS[c], 0);
  if (bpType & 4 && bpType !== 4) throw new ProbeError('watchpoint mode x cannot be combined with r or w');
  if (pid === undefined) throw new ProbeError('watchpoint probes need a process: give -p PID (or -c CMD)');
  return { addr, len: Number(lenText), bpType, shown: `watchpoint:0x${addr.toString(16)}:${lenText}:${mode}` };
}

/** A breakpoint perf event on `pid` (perf.ts's opener has no bp_type field, so the attr is built here). */
export function openWatchpoint(pid: number, w: WatchData, what: string): PerfEvent {
  const a = new Attr(PERF_ATTR_SIZE)
    .u32(PerfAttr.type, PerfType.BREAKPOINT)
    .u32(PerfAttr.size, PERF_ATTR_SIZE)
    .u64(PerfAttr.samplePeriod, 1)
    .u64(PerfAttr.flags, PerfFlag.disabled)
    .u32(PerfAttr.bpType, w.bpType)
    .u64(PerfAttr.config1, w.addr)
    .u64(PerfAttr.config2, w.len);
  let fd: number;
  try {
    fd = perfEventOpen(a.buf, pid, -1);
  } catch (e) {
    if (e instanceof SysError) {
      if (e.errno === errno.EINVAL && w.bpType === 1) throw new SysError(`opening ${what} (x86 cannot watch reads alone; use rw)`, e.errno);
      if (e.errno === errno.ENOSPC) throw new SysError(`opening ${what} (all hardware debug registers are in use)`, e.errno);
      throw new SysError(`opening ${what}`, e.errno);
    }
    throw e;
  }
  return new PerfEvent(fd, what);
}

export const watchpointProvider: Provider = {
  names: ['watchpoint', 'w'],
  expand(ap, env): ProbeTarget[] {
    const { shown, ...data } = parseWatchpoint(ap.parts, env.pid);
    return [{ provider: 'watchpoint', name: shown, progType: ProgType.PERF_EVENT, data }];
  },
  attach(progFd, t, env) {
    if (env.pid === undefined) throw new ProbeError('watchpoint probes need a process: give -p PID (or -c CMD)');
    return attachPerfEvent(progFd, openWatchpoint(env.pid, t.data as WatchData, t.name));
  },
};
