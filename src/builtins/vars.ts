// Builtin variables: process identity, time, CPU, context and arguments.
import * as A from '../bpf/asm/index.js';
import type { Builtin } from '../lang/ast.js';
import { i64, intTy, strTy, u32, u64, type Ty } from '../analysis/types.js';
import type { GenCtx, Operand, TypeCtx, VarBuiltin } from './registry.js';
import { probeTypeName } from './args.js';

/** A builtin computed by one helper call whose r0 is then shaped by `post`. */
function helperVar(names: string[], ty: Ty, helper: string, post: A.Insn[] = []): VarBuiltin {
  return {
    names,
    type: () => ty,
    emit: (_b, g) => {
      g.e.call(helper);
      g.e.emit(...post.map((i) => ({ ...i })));
      const v = g.e.vreg();
      g.e.set(v, A.R0);
      return { reg: v };
    },
  };
}

const pid = helperVar(['pid'], u32, 'get_current_pid_tgid', [A.alu64Imm('rsh', A.R0, 32)]);
const tid = helperVar(['tid'], u32, 'get_current_pid_tgid', [A.mov32Reg(A.R0, A.R0)]);
const uid = helperVar(['uid'], u32, 'get_current_uid_gid', [A.mov32Reg(A.R0, A.R0)]);
const gid = helperVar(['gid'], u32, 'get_current_uid_gid', [A.alu64Imm('rsh', A.R0, 32)]);
const nsecs = helperVar(['nsecs'], u64, 'ktime_get_ns');
const cpu = helperVar(['cpu'], u32, 'get_smp_processor_id');
const curtaskInt = helperVar(['curtask'], u64, 'get_current_task');
// With BTF, curtask is a `struct task_struct *` (curtask->pid works), as in bpftrace.
const curtask: VarBuiltin = {
  ...curtaskInt,
  type: (_b, t) => {
    const task = t.lookupCType('struct task_struct');
    return task ? { k: 'ptr', to: task, size: 8 } : u64;
  },
};
const rand = helperVar(['rand'], u32, 'get_prandom_u32');
const cgroup = helperVar(['cgroup'], u64, 'get_current_cgroup_id');
const numaid = helperVar(['numaid'], u32, 'get_numa_node_id');
const jiffies = helperVar(['jiffies'], u64, 'jiffies64');

const elapsed: VarBuiltin = {
  names: ['elapsed'],
  type: () => u64,
  emit: (_b, g) => {
    g.e.call('ktime_get_ns');
    g.e.emit(A.ldImm64(A.R1, g.opts.startNs ?? 0n), A.alu64Reg('sub', A.R0, A.R1));
    const v = g.e.vreg();
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const comm: VarBuiltin = {
  names: ['comm'],
  type: () => strTy(16),
  emit: (_b, g) => {
    const m = g.e.scratch(16);
    g.e.addr(m, A.R1);
    g.e.emit(A.mov64Imm(A.R2, 16));
    g.e.call('get_current_comm');
    return { mem: m };
  },
};

/** Strings known when compiling (probe, func for most providers) are literals in the program. */
function literalString(g: GenCtx, s: string, room = 0): Operand {
  // Zero-padded to `room` (and to 4 bytes), so readers of the declared size see only the name.
  const len = Math.max(Buffer.byteLength(s) + 1, room);
  const bytes = Buffer.alloc(len + ((4 - (len % 4)) % 4));
  bytes.write(s);
  const m = g.e.scratch(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) g.e.storeImm('w', m, i, bytes.readInt32LE(i));
  return { mem: m };
}

/** Bytes kept for probe and func names (the longest target's may not come first). */
const NAME_ROOM = 128;
const probe: VarBuiltin = {
  names: ['probe'],
  // One event layout or map value serves every target of a probe: leave room for the longer names.
  type: (_b, t) => strTy(Math.max(Buffer.byteLength(t.target.name) + 1, NAME_ROOM)),
  emit: (_b, g) => literalString(g, g.target.name, NAME_ROOM),
};

const func: VarBuiltin = {
  names: ['func'],
  type: (b, t) => {
    // One program for many functions (kprobe_multi): the address of the one hit, printed as a symbol.
    if (t.target.funcIp) return { k: 'int', size: 8, signed: false, fmt: 'ksym' };
    if (t.target.func === undefined) t.error(b.loc, `The func builtin can not be used with '${probeTypeName(t)}' probes`);
    return strTy(Math.max(Buffer.byteLength(t.target.func ?? '') + 1, NAME_ROOM));
  },
  emit: (_b, g) => {
    if (!g.target.funcIp) return literalString(g, g.target.func ?? '', NAME_ROOM);
    const v = g.e.vreg();
    g.e.emit(A.mov64Reg(A.R1, A.R6));
    g.e.call('get_func_ip');
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const ctx: VarBuiltin = {
  names: ['ctx'],
  type: () => ({ k: 'int', size: 8, signed: false }),
  emit: (_b, g) => {
    const v = g.e.vreg();
    g.e.emit(A.mov64Reg(A.R0, A.R6));
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const args: VarBuiltin = {
  names: ['args'],
  type: (b, t) => {
    // bpftrace 0.17's words, missing space included.
    if (!t.target.args)
      t.error(b.loc, t.target.argsError ?? `The args builtin can only be used with tracepoint/kfunc/uprobeprobes (${t.target.special ? 'special' : t.target.provider} used here)`);
    // Used bare (print(args)) it is the whole record: newer bpftrace prints it as a struct.
    return { k: 'ctx', size: 8 };
  },
  emit: (_b, g) => {
    const v = g.e.vreg();
    g.e.emit(A.mov64Reg(A.R0, A.R6));
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const argN: VarBuiltin = {
  names: [],
  match: /^arg\d+$/,
  type: (b: Builtin, t: TypeCtx) => {
    const n = Number(b.name.slice(3));
    if (!t.target.argN && !t.target.argRead) t.error(b.loc, `The ${b.name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`);
    const r = t.target.argRead?.(n) ?? t.target.argN?.(n);
    const nargs = t.target.provider === 'rawtracepoint' ? t.target.data?.nargs : undefined;
    if (!r && typeof nargs === 'number')
      t.error(b.loc, `${t.target.name} has ${nargs} argument${nargs === 1 ? '' : 's'}${nargs ? ` (arg0 to arg${nargs - 1})` : ''}: ${b.name} is out of range`);
    if (!r) t.error(b.loc, `${t.target.provider} probes have no ${b.name}`);
    return r.kind === 'ctx' && r.signed ? i64 : u64;
  },
  emit: (b, g) => {
    const n = Number(b.name.slice(3));
    return g.argRead((g.target.argRead?.(n) ?? g.target.argN?.(n))!);
  },
};

const retval: VarBuiltin = {
  names: ['retval'],
  type: (b, t) => {
    if (!t.target.retval) t.error(b.loc, `The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes`);
    return i64;
  },
  emit: (_b, g) => g.ctxReadInt(g.target.retval!),
};

const cpid: VarBuiltin = {
  names: ['cpid'],
  type: (b, t) => {
    if (t.opts.cpid === undefined) t.error(b.loc, 'cpid cannot be used without child command');
    return u32;
  },
  emit: (_b, g) => ({ reg: g.e.constant(g.opts.cpid ?? 0) }),
};

const username: VarBuiltin = {
  names: ['username'],
  type: () => ({ k: 'int', size: 8, signed: false, fmt: 'username' as never }),
  emit: (_b, g) => {
    g.e.call('get_current_uid_gid');
    g.e.emit(A.mov32Reg(A.R0, A.R0));
    const v = g.e.vreg();
    g.e.set(v, A.R0);
    return { reg: v };
  },
};

const ncpus: VarBuiltin = {
  names: ['ncpus'],
  type: () => u64,
  emit: (_b, g) => ({ reg: g.e.constant(g.opts.ncpus) }),
};

export const variableBuiltins: VarBuiltin[] = [
  pid, tid, uid, gid, nsecs, elapsed, cpu, comm, probe, func, curtask, rand, cgroup, cpid, numaid, jiffies,
  args, retval, argN, ctx, username, ncpus,
];

export { intTy };
