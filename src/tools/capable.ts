// capable: bpftrace's tools/capable.bt, on the capability:cap_capable
// tracepoint (6.14+) where the kernel has it, else kprobe:cap_capable.
import { classicTool, hasTracepoint, kprobeReason, tableLines } from './tool.js';

/** include/uapi/linux/capability.h */
const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const TRACEPOINT = `tracepoint:capability:cap_capable
{
	$cap = args.cap;
	printf("%s  %-6d %-6d %-16s %-4d %-20s %s\\n", strftime("%H:%M:%S", nsecs),
	    uid, pid, comm, $cap, @cap[$cap], "?");
}`;

const KPROBE = `kprobe:cap_capable
{
	$cap = arg2;
	$audit = arg3;
	printf("%s  %-6d %-6d %-16s %-4d %-20s %d\\n", strftime("%H:%M:%S", nsecs),
	    uid, pid, comm, $cap, @cap[$cap], $audit);
}`;

export const capable = classicTool({
  name: 'capable',
  description: 'Trace security capability checks (cap_capable())',
  unavailable: () => (hasTracepoint('capability', 'cap_capable') ? undefined : kprobeReason('cap_capable()')),
  vars: () => ({
    CAPS: tableLines('cap', CAPS.map((c, i) => [i, c])),
    PROBE: hasTracepoint('capability', 'cap_capable') ? TRACEPOINT : KPROBE,
  }),
});
