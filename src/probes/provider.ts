// What a probe provider is. The compiler asks a provider three things about an
// attach point: which concrete targets it expands to, how the program reads
// its context (args, argN, retval, func), and how to attach a loaded program.
// One file per provider implements this; nothing else knows provider details.
import type { AttachPoint } from '../lang/ast.js';
import type { CType, Ty } from '../analysis/types.js';

/** How a builtin reads a value out of the probe's context. */
export type CtxRead =
  /** Load `size` bytes at ctx+off (tracepoint fields, pt_regs slots, raw tracepoint u64 args). */
  | { kind: 'ctx'; off: number; size: 1 | 2 | 4 | 8; signed: boolean }
  /** A __data_loc field: u32 at ctx+off holds (len << 16 | offset-from-ctx). */
  | { kind: 'dataloc'; off: number };

/**
 * Every way a positional argument can be read. Beyond CtxRead: USDT operands
 * that are immediates, and values in memory (USDT `8@-16(%rbp)`,
 * `4@counter(%rip)`, stack-passed arguments). For `mem` the address is
 * disp + sum of (u64 at ctx+term.off) * term.scale, computed in 64 bits; then
 * `size` bytes are copied from it with bpf_probe_read_user (user) or
 * bpf_probe_read_kernel, and sign- or zero-extended to 64 bits. A failed read
 * gives 0. Position-independent addresses are expressed relative to the ip
 * slot of pt_regs (a term at IP_OFFSET), so no load bias is needed.
 */
export type ArgRead =
  | CtxRead
  | { kind: 'const'; value: bigint }
  | { kind: 'mem'; terms: { off: number; scale: 1 | 2 | 4 | 8 }[]; disp: bigint; size: 1 | 2 | 4 | 8; signed: boolean; user: boolean };

export interface ArgsField {
  name: string;
  ty: Ty;
  ctype: CType;
  read: CtxRead;
  /** Pointer fields into user memory (tracepoint `const char *filename`). */
  user: boolean;
  /** Set when the field exists but cannot be read (a uprobe's float or stack-passed parameter): the diagnostic. */
  error?: string;
}

/** One concrete place a program attaches. */
export interface ProbeTarget {
  /** Canonical provider name (`tracepoint`, `interval`...). */
  provider: string;
  /** The full name the `probe` builtin returns, e.g. `tracepoint:syscalls:sys_enter_openat`. */
  name: string;
  /** BPF_PROG_TYPE_* of the program serving it. */
  progType: number;
  expectedAttachType?: number;
  attachBtfId?: number;
  /**
   * Kernel module whose split BTF attachBtfId is in (a module function's
   * fentry/fexit): the program loads with that module's BTF object fd.
   */
  attachBtfModule?: string;
  /** Fields of `args` (tracepoints, fentry, uprobes with DWARF). */
  args?: ArgsField[];
  /** Why `args` is missing although the provider has args (a uprobe on a binary without DWARF). */
  argsError?: string;
  /** arg0..argN, when the provider has positional arguments. */
  argN?: (n: number) => CtxRead | undefined;
  /**
   * Full form of argN where some arguments are not plain ctx loads (USDT,
   * stack arguments); argN then returns undefined for those. Prefer this
   * when present.
   */
  argRead?: (n: number) => ArgRead | undefined;
  retval?: CtxRead;
  /** Value of the `func` builtin when known at compile time. */
  func?: string;
  /**
   * One program serves several functions (a kprobe_multi link): `func` is
   * read per event with bpf_get_func_ip and printed as a kernel symbol, as
   * bpftrace does.
   */
  funcIp?: boolean;
  /** Functions this target attaches to, when more than one (kprobe_multi); for counts and messages. */
  funcs?: string[];
  /** Whether this target runs once from user space (BEGIN/END) rather than on events. */
  special?: 'begin' | 'end';
  /** Provider data for attach(). */
  data: Record<string, unknown>;
}

export interface ExpandEnv {
  /** `-p PID` when given. */
  pid?: number;
  /** Positional parameters, for attach points that use `$1`. */
  positional: string[];
  /** `--unsafe`: allows probes that cannot be checked (a uprobe at an offset that may split an instruction). */
  unsafe?: boolean;
  /**
   * The probe needs one program per matched function (bpftrace's "full
   * expansion"): it reads `probe`, whose value is a literal per program, so
   * a wildcard must not be served by one multi-attach program.
   */
  expandAll?: boolean;
}

export interface ListEnv {
  /** `-p PID`: list the probes of that process's binary and libraries. */
  pid?: number;
  /** Told about something the listing could not show (printed as a WARNING). */
  warn?: (message: string) => void;
}

/** Something attached that must be detached. */
export interface Attachment {
  close(): void;
  /**
   * Runs once after BEGIN, for attachments that fire on demand rather than
   * on kernel events: an iterator walks all its objects here, and the
   * session should then end as bpftrace does after an iter probe.
   */
  afterBegin?(): void;
}

export interface AttachEnv {
  pid?: number;
  ncpus: number;
  onlineCpus: number[];
}

export interface Provider {
  /** Canonical name first, then aliases (`tracepoint`, `t`). */
  names: string[];
  /**
   * Expands an attach point to targets. Throws ProbeError with a message
   * bpftrace would print; an empty result is an error the caller reports.
   */
  expand(ap: AttachPoint, env: ExpandEnv): ProbeTarget[];
  /** Attaches a loaded program fd. */
  attach?(progFd: number, target: ProbeTarget, env: AttachEnv): Attachment;
  /**
   * Attaching many targets with one program and one link (uprobe_multi):
   * targets with the same code and the same `key` (undefined: this one
   * cannot share) get one program, loaded with `attachType`, and one
   * `attach` for all of them.
   */
  multi?: {
    key(target: ProbeTarget): string | undefined;
    attachType: number;
    attach(progFd: number, targets: ProbeTarget[], env: AttachEnv): Attachment;
  };
  /**
   * Lists probes matching a pattern for `-l` (full names), when the provider
   * can; with `verbose`, a probe's detail lines (four-space indented) follow it.
   */
  list?(pattern: string, verbose: boolean, env?: ListEnv): string[];
}

/** An attach point that cannot be served; `hint` names what to use instead. */
export class ProbeError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'ProbeError';
  }
}

/** Glob match with `*` and `?` as bpftrace's wildcards. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}
