// fentry:[MODULE:]FUNC and fexit (bpftrace 0.17's kfunc/kretfunc): BPF
// trampolines on kernel functions, typed by BTF. The program's context is an
// array of u64, one slot per argument (two for a 16-byte struct passed by
// value), and fexit's return value follows the last argument. This file also
// knows which tracepoints cover a kernel function's event, the advice given
// when neither kprobes nor fentry can be used.
import { readFileSync } from 'node:fs';
import type { AttachPoint } from '../lang/ast.js';
import { attachTracing } from '../bpf/link.js';
import { hasFentry, hasFexit } from '../bpf/features.js';
import { AttachType, ProgType } from '../bpf/program.js';
import { Btf } from '../btf/index.js';
import { CTypes } from '../analysis/ctypes.js';
import { ctypeToTy, type CType } from '../analysis/types.js';
import { splitAttachPoint } from '../lang/attach.js';
import { listEvents, tracefsPath } from './tracefs.js';
import { globToRegExp, hasWildcard, ProbeError, type ArgsField, type CtxRead, type Provider, type ProbeTarget } from './provider.js';

// ---------------------------------------------------------------- tracepoint hints

/** Kernel functions whose event a tracepoint (CATEGORY:NAME) also reports. */
const COVERED_BY: [string[], string[]][] = [
  [['vfs_read', 'new_sync_read', 'ksys_pread64'], ['syscalls:sys_enter_read', 'syscalls:sys_enter_pread64', 'syscalls:sys_enter_readv', 'syscalls:sys_enter_preadv']],
  [['vfs_readv', 'do_readv', 'do_preadv'], ['syscalls:sys_enter_readv', 'syscalls:sys_enter_preadv', 'syscalls:sys_enter_preadv2']],
  [['vfs_write', 'new_sync_write', 'ksys_pwrite64'], ['syscalls:sys_enter_write', 'syscalls:sys_enter_pwrite64', 'syscalls:sys_enter_writev', 'syscalls:sys_enter_pwritev']],
  [['vfs_writev', 'do_writev', 'do_pwritev'], ['syscalls:sys_enter_writev', 'syscalls:sys_enter_pwritev', 'syscalls:sys_enter_pwritev2']],
  [['vfs_open', 'do_filp_open', 'do_sys_openat2', 'do_sys_open', 'path_openat', 'do_open'], ['syscalls:sys_enter_openat', 'syscalls:sys_enter_open', 'syscalls:sys_enter_openat2']],
  [['vfs_unlink', 'do_unlinkat'], ['syscalls:sys_enter_unlinkat', 'syscalls:sys_enter_unlink']],
  [['vfs_mkdir', 'do_mkdirat'], ['syscalls:sys_enter_mkdirat', 'syscalls:sys_enter_mkdir']],
  [['vfs_rmdir', 'do_rmdir'], ['syscalls:sys_enter_rmdir', 'syscalls:sys_enter_unlinkat']],
  [['vfs_rename', 'do_renameat2'], ['syscalls:sys_enter_renameat2', 'syscalls:sys_enter_renameat', 'syscalls:sys_enter_rename']],
  [['vfs_fsync', 'vfs_fsync_range', 'do_fsync'], ['syscalls:sys_enter_fsync', 'syscalls:sys_enter_fdatasync']],
  [['vfs_statx', 'vfs_fstatat', 'vfs_getattr', 'vfs_fstat'], ['syscalls:sys_enter_newfstatat', 'syscalls:sys_enter_statx', 'syscalls:sys_enter_newstat', 'syscalls:sys_enter_newfstat']],
  [['filp_close', 'close_fd', '__close_fd', 'file_close_fd'], ['syscalls:sys_enter_close']],
  [['do_execveat_common', 'bprm_execve', 'do_execve', 'exec_binprm', 'begin_new_exec'], ['sched:sched_process_exec', 'syscalls:sys_enter_execve', 'syscalls:sys_enter_execveat']],
  [['kernel_clone', '_do_fork', 'do_fork', 'copy_process'], ['sched:sched_process_fork', 'task:task_newtask']],
  [['do_exit', 'do_group_exit', 'release_task'], ['sched:sched_process_exit']],
  [['schedule', '__schedule', 'finish_task_switch', 'context_switch'], ['sched:sched_switch']],
  [['try_to_wake_up', 'wake_up_process', 'ttwu_do_activate'], ['sched:sched_waking', 'sched:sched_wakeup']],
  [['wake_up_new_task'], ['sched:sched_wakeup_new']],
  [['tcp_connect', 'tcp_v4_connect', 'tcp_v6_connect', '__inet_stream_connect', 'inet_stream_connect'], ['sock:inet_sock_set_state', 'syscalls:sys_enter_connect']],
  [['tcp_set_state', 'inet_csk_accept', 'tcp_v4_syn_recv_sock', 'tcp_close', 'tcp_fin'], ['sock:inet_sock_set_state']],
  [['tcp_retransmit_skb', '__tcp_retransmit_skb'], ['tcp:tcp_retransmit_skb']],
  [['tcp_v4_send_reset', 'tcp_v6_send_reset', 'tcp_send_active_reset'], ['tcp:tcp_send_reset']],
  [['tcp_rcv_established', 'tcp_rcv_state_process'], ['tcp:tcp_probe']],
  [['tcp_sendmsg', 'udp_sendmsg', 'sock_sendmsg', 'inet_sendmsg'], ['syscalls:sys_enter_sendto', 'syscalls:sys_enter_sendmsg', 'syscalls:sys_enter_sendmmsg']],
  [['tcp_recvmsg', 'udp_recvmsg', 'sock_recvmsg', 'inet_recvmsg'], ['syscalls:sys_enter_recvfrom', 'syscalls:sys_enter_recvmsg', 'syscalls:sys_enter_recvmmsg']],
  [['tcp_drop', 'kfree_skb', 'kfree_skb_reason', 'sk_skb_reason_drop'], ['skb:kfree_skb']],
  [['blk_account_io_start', '__blk_account_io_start', 'blk_mq_start_request', 'blk_start_request'], ['block:block_rq_issue', 'block:block_io_start']],
  [['blk_account_io_done', '__blk_account_io_done', 'blk_mq_end_request', 'blk_account_io_completion', 'blk_update_request'], ['block:block_rq_complete', 'block:block_io_done']],
  [['submit_bio', 'submit_bio_noacct'], ['block:block_bio_queue']],
  [['blk_mq_insert_request', 'blk_mq_insert_requests'], ['block:block_rq_insert']],
  [['handle_mm_fault', 'do_user_addr_fault', 'exc_page_fault'], ['exceptions:page_fault_user', 'exceptions:page_fault_kernel']],
  [['__kmalloc', 'kmalloc', '__kmalloc_node', 'kmalloc_trace', '__kmalloc_noprof'], ['kmem:kmalloc']],
  [['kfree'], ['kmem:kfree']],
  [['kmem_cache_alloc', 'kmem_cache_alloc_node', 'kmem_cache_alloc_noprof'], ['kmem:kmem_cache_alloc']],
  [['kmem_cache_free'], ['kmem:kmem_cache_free']],
  [['__alloc_pages', '__alloc_pages_nodemask', '__alloc_pages_noprof'], ['kmem:mm_page_alloc']],
  [['__free_pages', 'free_unref_page', '__free_pages_ok'], ['kmem:mm_page_free']],
  [['send_signal', '__send_signal', 'send_signal_locked', 'do_send_sig_info', '__send_signal_locked'], ['signal:signal_generate']],
  [['get_signal'], ['signal:signal_deliver']],
  [['__do_softirq', 'handle_softirqs'], ['irq:softirq_entry']],
  [['handle_irq_event', '__handle_irq_event_percpu'], ['irq:irq_handler_entry']],
  [['oom_kill_process', 'out_of_memory', 'mark_oom_victim'], ['oom:mark_victim']],
  [['mutex_lock', 'down_read', 'down_write', 'rwsem_down_read_slowpath', 'rwsem_down_write_slowpath', '__mutex_lock'], ['lock:contention_begin']],
];

/** `__x64_sys_read` and friends are the syscall entry points; `ksys_`/`__sys_`/`do_sys_` are their bodies. */
const SYSCALL_PREFIXES = ['__x64_sys_', '__ia32_sys_', '__x64_compat_sys_', '__ia32_compat_sys_', '__se_sys_', '__do_sys_', 'ksys_', '__sys_', 'do_sys_', 'sys_'];

/**
 * Tracepoints (`tracepoint:CAT:NAME`) that report the event a probe on
 * kernel function `func` would, for the error that says kprobes cannot be
 * used. Only tracepoints this kernel has are named.
 */
export function tracepointAlternatives(func: string, ret: boolean): string[] {
  let have: Set<string>;
  try {
    have = new Set(listEvents().map((e) => `${e.category}:${e.name}`));
  } catch {
    return [];
  }
  const want: string[] = [];
  for (const p of SYSCALL_PREFIXES) {
    if (func.startsWith(p) && func.length > p.length) {
      want.push(`syscalls:sys_enter_${func.slice(p.length)}`);
      break;
    }
  }
  for (const [funcs, tps] of COVERED_BY) if (funcs.includes(func)) want.push(...tps);
  // A tracepoint named after the function (kfree_skb, sched_switch), or its entry/exit pair.
  for (const e of have) {
    const name = e.slice(e.indexOf(':') + 1);
    if (name === func || name === `${func}_enter` || name === `${func}_entry`) want.push(e);
  }
  const out: string[] = [];
  for (let tp of want) {
    if (ret) {
      // A return probe's event is the exit half where a tracepoint pair has one.
      const exit = tp.replace(':sys_enter_', ':sys_exit_').replace(/_(enter|entry)$/, '_exit');
      if (have.has(exit)) tp = exit;
    }
    if (have.has(tp) && !out.includes(`tracepoint:${tp}`)) out.push(`tracepoint:${tp}`);
  }
  return out;
}

/** The HINT line of an unavailable kernel-function probe. */
export function tracepointHint(func: string, ret: boolean): string {
  const alts = tracepointAlternatives(func, ret);
  if (alts.length === 1) return `HINT: ${alts[0]} covers the same event`;
  if (alts.length > 1) return `HINT: tracepoints covering the same event: ${alts.join(', ')}`;
  return `HINT: use tracepoints (bpfkit -l 'tracepoint:*') or raw tracepoints instead`;
}

// ---------------------------------------------------------------- BTF functions

/** A kernel function with BTF: where its types live and its BTF id there. */
export interface KernelFunc {
  module: string;
  name: string;
  btf: Btf;
  id: number;
}

let traceable: Set<string> | null | undefined;

/**
 * Functions ftrace can hook (available_filter_functions), which is where
 * trampolines and kprobes can attach; null when the file cannot be read
 * (it is root-only, and some kernels refuse even root).
 */
export function traceableFunctions(): Set<string> | null {
  if (traceable !== undefined) return traceable;
  traceable = null;
  try {
    const text = readFileSync(`${tracefsPath()}/available_filter_functions`, 'utf8');
    traceable = new Set();
    for (const line of text.split('\n')) {
      const name = line.split(/\s/, 1)[0];
      if (name) traceable.add(name);
    }
  } catch {
    // unreadable: callers fall back to BTF or kallsyms alone
  }
  return traceable;
}

function moduleBtf(module: string): Btf | null {
  try {
    return module === 'vmlinux' ? Btf.vmlinux() : Btf.module(module);
  } catch {
    return null;
  }
}

/** BTF functions matching [module, func] patterns (either may have wildcards). */
export function findKernelFuncs(module: string, func: string): KernelFunc[] {
  const mods = hasWildcard(module) ? ['vmlinux', ...Btf.moduleNames()].filter((m) => globToRegExp(module).test(m)) : [module];
  const ok = traceableFunctions();
  const out: KernelFunc[] = [];
  for (const m of mods) {
    const btf = moduleBtf(m);
    if (!btf) continue;
    if (!hasWildcard(func)) {
      if (out.length && hasWildcard(module)) break;
      // A module's split BTF also sees vmlinux's types; only its own functions count.
      const id = btf.findAllByName(func, 'func').find((i) => m === 'vmlinux' || i > Btf.vmlinux().typeCount);
      if (id !== undefined) out.push({ module: m, name: func, btf, id });
      continue;
    }
    const re = globToRegExp(func);
    const seen = new Set<string>();
    for (const name of btf.funcs()) {
      if (seen.has(name) || !re.test(name) || (ok && !ok.has(name))) continue;
      seen.add(name);
      const id = btf.findAllByName(name, 'func').find((i) => m === 'vmlinux' || i > Btf.vmlinux().typeCount);
      if (id !== undefined) out.push({ module: m, name, btf, id });
    }
  }
  return out.sort((a, b) => (a.module === b.module ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.module < b.module ? -1 : 1));
}

const ctypes = new CTypes();

function isUserPointer(btf: Btf, typeId: number): boolean {
  // `char __user *` is a ptr to a type_tag "user" (kernels built with pahole's --btf_type_tag).
  const t = btf.type(btf.resolve(typeId));
  if (t.kind !== 'ptr') return false;
  for (let id = t.type, guard = 0; id !== 0 && guard < 16; guard++) {
    const x = btf.type(id);
    if (x.kind === 'type_tag' && x.name === 'user') return true;
    if (x.kind !== 'typedef' && x.kind !== 'const' && x.kind !== 'volatile' && x.kind !== 'restrict' && x.kind !== 'type_tag') return false;
    id = x.type;
  }
  return false;
}

/** A type from a module's own BTF, which CTypes (vmlinux only) cannot decode: kept opaque. */
function ctypeOf(f: KernelFunc, typeId: number, user: boolean): CType {
  if (f.module === 'vmlinux' || typeId <= Btf.vmlinux().typeCount) return ctypes.fromBtf(typeId, user);
  const size = f.btf.sizeof(typeId);
  const t = f.btf.type(f.btf.resolve(typeId));
  if (t.kind === 'ptr') return { name: f.btf.typeToString(typeId), kind: 'ptr', size: 8, target: () => ({ name: 'void', kind: 'void', size: 0 }), user };
  return { name: f.btf.typeToString(typeId), kind: 'int', size: size || 8, signed: t.kind === 'int' ? t.signed : false };
}

function slotRead(slot: number, c: CType): CtxRead {
  const size = c.kind === 'int' || c.kind === 'enum' ? ((c.size === 1 || c.size === 2 || c.size === 4 ? c.size : 8) as 1 | 2 | 4 | 8) : 8;
  return { kind: 'ctx', off: slot * 8, size, signed: (c.kind === 'int' || c.kind === 'enum') && !!c.signed };
}

export interface FuncContext {
  args: ArgsField[];
  /** ctx slot of each parameter. */
  slots: number[];
  /** Slots the parameters take; fexit's return value is in the next one. */
  nslots: number;
  retval?: CtxRead;
  /** `-lv` lines: `    struct file * file`, ..., `    ssize_t retval`. */
  listing: string[];
}

/** `struct file *` + `file` -> `struct file * file`, the way bpftrace -lv spells parameters. */
function declText(btf: Btf, typeId: number, name: string): string {
  const t = btf.typeToString(typeId);
  return t.endsWith('*') ? `${t} ${name}` : btf.typeToString(typeId, name);
}

/** Arguments and return value of `f` as a tracing program's context holds them. */
export function funcContext(f: KernelFunc, maxStrlen: number): FuncContext {
  const fn = f.btf.type(f.id);
  if (fn.kind !== 'func') throw new ProbeError(`${f.name} is not a function in ${f.module}'s BTF`);
  const proto = f.btf.type(fn.proto);
  if (proto.kind !== 'func_proto') throw new ProbeError(`${f.name} has no prototype in ${f.module}'s BTF`);
  const args: ArgsField[] = [];
  const slots: number[] = [];
  const listing: string[] = [];
  let slot = 0;
  for (const [i, p] of proto.params.entries()) {
    const user = isUserPointer(f.btf, p.typeId);
    const ctype = ctypeOf(f, p.typeId, user);
    const name = p.name || `arg${i}`;
    slots.push(slot);
    args.push({ name, ty: ctypeToTy(ctype, maxStrlen), ctype, read: slotRead(slot, ctype), user });
    listing.push(`    ${declText(f.btf, p.typeId, name)}`);
    slot += Math.max(1, Math.ceil((f.btf.sizeof(p.typeId) || 8) / 8));
  }
  const ctx: FuncContext = { args, slots, nslots: slot, listing };
  if (proto.ret !== 0) {
    const rc = ctypeOf(f, proto.ret, false);
    ctx.retval = slotRead(slot, rc);
    listing.push(`    ${declText(f.btf, proto.ret, 'retval')}`);
  }
  return ctx;
}

// ---------------------------------------------------------------- the providers

export interface FentryOptions {
  maxStrlen: number;
}

/** [func] or [module, func]; bpftrace writes `vmlinux` for the kernel proper. */
export function kernelFuncSpec(parts: string[], kind: string): { module: string; func: string } {
  if (parts.length === 1 && parts[0] !== '') return { module: '*', func: parts[0] };
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return { module: parts[0], func: parts[1] };
  throw new ProbeError(`${kind} probe type requires 1 or 2 arguments`, `HINT: ${kind}:FUNCTION or ${kind}:MODULE:FUNCTION`);
}

/** Why fentry cannot be used here, or undefined when it can. */
export function fentryUnavailable(ret: boolean): string | undefined {
  if (ret ? hasFexit() : hasFentry()) return undefined;
  return `${ret ? 'fexit' : 'fentry'} probes are not available on this kernel: it refuses to load BPF tracing programs (BPF_PROG_TYPE_TRACING fails with EPERM)`;
}

interface FentryData extends Record<string, unknown> {
  attachType: number;
  module: string;
  func: string;
}

/** One target serving `f` with a trampoline program; `provider`/`name` are what the probe calls itself. */
export function fentryTarget(f: KernelFunc, ret: boolean, provider: string, name: string, maxStrlen: number): ProbeTarget {
  const ctx = funcContext(f, maxStrlen);
  const attachType = ret ? AttachType.TRACE_FEXIT : AttachType.TRACE_FENTRY;
  const data: FentryData = { attachType, module: f.module, func: f.name };
  return {
    provider,
    name,
    progType: ProgType.TRACING,
    expectedAttachType: attachType,
    attachBtfId: f.id,
    ...(f.module !== 'vmlinux' ? { attachBtfModule: f.module } : {}),
    args: ctx.args,
    retval: ret ? ctx.retval ?? { kind: 'ctx', off: ctx.nslots * 8, size: 8, signed: false } : undefined,
    func: f.name,
    data,
  };
}

function makeFentryProvider(ret: boolean, names: string[], opts: FentryOptions): Provider {
  const kind = ret ? 'fexit' : 'fentry';
  return {
    names,
    expand(ap: AttachPoint): ProbeTarget[] {
      const spec = kernelFuncSpec(ap.parts, ap.provider);
      const why = fentryUnavailable(ret);
      if (why) throw new ProbeError(why, tracepointHint(spec.func, ret));
      // The name keeps the spelling's generation: 0.17's kfunc:vmlinux:f, or fentry:vmlinux:f.
      const shown = ap.provider === 'kfunc' || ap.provider === 'kretfunc' ? (ret ? 'kretfunc' : 'kfunc') : kind;
      const funcs = findKernelFuncs(spec.module, spec.func);
      if (!funcs.length && !hasWildcard(ap.raw)) {
        throw new ProbeError(`No BTF found for ${spec.module}:${spec.func}`, `HINT: ${kind} needs a kernel function that has BTF; see bpfkit -l '${kind}:${spec.func}*'`);
      }
      return funcs.map((f) => fentryTarget(f, ret, kind, `${shown}:${f.module}:${f.name}`, opts.maxStrlen));
    },
    attach(progFd, t) {
      return attachTracing(progFd, { attachType: (t.data as FentryData).attachType });
    },
    list(pattern, verbose) {
      const { provider, parts } = splitAttachPoint(pattern);
      // A provider wildcard lists kfuncs only where they can be used, as bpftrace does.
      if (hasWildcard(provider) && fentryUnavailable(ret)) return [];
      const shown = provider === 'kfunc' || provider === 'kretfunc' || hasWildcard(provider) ? (ret ? 'kretfunc' : 'kfunc') : kind;
      const spec = parts.length === 0 ? { module: '*', func: '*' } : parts.length === 1 ? { module: '*', func: parts[0] } : kernelFuncSpec(parts, kind);
      const out: string[] = [];
      for (const f of findKernelFuncs(spec.module, spec.func)) {
        out.push(`${shown}:${f.module}:${f.name}`);
        if (verbose) {
          try {
            out.push(...funcContext(f, 64).listing);
          } catch {
            // a function without a prototype lists without parameters
          }
        }
      }
      return out;
    },
  };
}

export function fentryProvider(opts: FentryOptions): Provider {
  return makeFentryProvider(false, ['fentry', 'f', 'kfunc'], opts);
}

export function fexitProvider(opts: FentryOptions): Provider {
  return makeFentryProvider(true, ['fexit', 'fr', 'kretfunc'], opts);
}
