// kstack and ustack: the kernel records the stack in a stack-trace map and
// the program keeps only its id (and the pid, which user stacks need to be
// symbolised); frames are read and symbolised in user space when printed.
import * as A from '../bpf/asm/index.js';
import type { Builtin, Call, Expr } from '../lang/ast.js';
import type { Ty } from '../analysis/types.js';
import type { FnBuiltin, GenCtx, Operand, TypeCtx, VarBuiltin } from './registry.js';

export const KSTACK_MAP = '__kstack';
/** Pids already reported to user space (see notePid). */
export const UPIDS_MAP = '__upids';
export const USTACK_MAP = '__ustack';
/** PERF_MAX_STACK_DEPTH: what one stack-trace map value holds. */
export const MAX_STACK_DEPTH = 127;
const BPF_F_USER_STACK = 1 << 8;
const MODES = ['bpftrace', 'perf', 'raw'] as const;

function stackTy(kernel: boolean, mode: Ty & { k: 'stack' } extends { mode: infer M } ? M : never, limit: number): Ty {
  return { k: 'stack', kernel, mode, limit, size: 16 } as Ty;
}

function emitStack(g: GenCtx, kernel: boolean): Operand {
  const e = g.e;
  const m = e.scratch(16);
  e.emit(A.mov64Reg(A.R1, A.R6));
  e.mapFd(A.R2, kernel ? KSTACK_MAP : USTACK_MAP);
  e.emit(A.mov64Imm(A.R3, kernel ? 0 : BPF_F_USER_STACK));
  e.call('get_stackid');
  e.store('dw', m, 0, A.R0);
  if (kernel) e.storeImm('dw', m, 8, 0);
  else {
    e.call('get_current_pid_tgid');
    e.emit(A.alu64Imm('rsh', A.R0, 32));
    e.store('dw', m, 8, A.R0);
    notePid(g, e.offset(m, 8));
  }
  return { mem: m };
}

/** Bytes of a __upids key: the pid, then the address space (mm) it ran in. */
export const UPIDS_KEY_SIZE = 16;
/** Offset of `mm` in struct task_struct per program, found in BTF by the type pass. */
const mmOffsets = new WeakMap<object, number>();

/**
 * User addresses are symbolised when printed, often after the process has
 * exited; so the first time a pid records one, the kernel tells user space,
 * which then keeps a copy of the process's mappings. The key holds the
 * task's mm as well as the pid: exec replaces the mappings but keeps the pid,
 * and a pid first seen before its exec (a shell's fork) must be reported
 * again after it, or its later frames resolve against the old mappings.
 */
export function notePid(g: GenCtx, pidAt: import('../codegen/emitter.js').Mem): void {
  const e = g.e;
  const spec = g.res.seenPid;
  if (!spec) return;
  const done = e.newLabel('seen');
  const key = e.scratch(UPIDS_KEY_SIZE);
  const mmOff = mmOffsets.get(g.res);
  if (mmOff !== undefined) {
    e.call('get_current_task');
    e.emit(A.alu64Imm('add', A.R0, mmOff), A.mov64Reg(A.R3, A.R0));
    e.addr(e.offset(key, 8), A.R1);
    e.emit(A.mov64Imm(A.R2, 8));
    // On failure the helper zero-fills, which degrades to a pid-only key.
    e.call('probe_read_kernel');
  } else e.storeImm('dw', key, 8, 0);
  e.load('dw', A.R0, pidAt);
  e.store('dw', key, 0, A.R0);
  e.mapFd(A.R1, UPIDS_MAP);
  e.addr(key, A.R2);
  e.call('map_lookup_elem');
  e.emit(A.jmpImm('jne', A.R0, 0, done));
  e.mapFd(A.R1, UPIDS_MAP);
  e.addr(key, A.R2);
  e.addr(key, A.R3);
  e.emit(A.mov64Imm(A.R4, 1));
  e.call('map_update_elem');
  e.emit(A.jmpImm('jne', A.R0, 0, done));
  g.sendEvent(spec, (p) => {
    e.load('dw', A.R0, pidAt);
    e.store('dw', p, 0, A.R0);
  });
  e.label(done);
}

export function wantSeenPid(t: TypeCtx, loc: import('../lang/ast.js').Loc): void {
  t.res.seenPid ??= t.addEvent('seen_pid', [{ k: 'int', size: 8, signed: false }], loc);
  if (!mmOffsets.has(t.res)) {
    const mm = t.lookupCType('struct task_struct')?.members?.().find((m) => m.name === 'mm');
    if (mm && mm.bitSize === undefined) mmOffsets.set(t.res, mm.offset);
  }
}

function stackVar(kernel: boolean): VarBuiltin {
  return {
    names: [kernel ? 'kstack' : 'ustack'],
    type(b: Builtin, t: TypeCtx) {
      t.res.stackMaps.add(kernel ? 'k' : 'u');
      if (!kernel) wantSeenPid(t, b.loc);
      return stackTy(kernel, 'bpftrace', MAX_STACK_DEPTH);
    },
    emit: (_b, g) => emitStack(g, kernel),
  };
}

function modeOf(e: Expr): string | undefined {
  if (e.kind === 'Builtin') return e.name;
  if (e.kind === 'Str') return e.value;
  return undefined;
}

function stackFn(kernel: boolean): FnBuiltin {
  const name = kernel ? 'kstack' : 'ustack';
  return {
    names: [name],
    type(call: Call, t: TypeCtx) {
      if (call.args.length > 2) t.error(call.loc, `${name}() takes up to 2 arguments (${call.args.length} provided)`);
      let mode: (typeof MODES)[number] = 'bpftrace';
      let limit = MAX_STACK_DEPTH;
      for (const a of call.args) {
        const m = modeOf(a);
        if (m !== undefined && (MODES as readonly string[]).includes(m)) mode = m as typeof mode;
        else {
          const n = t.constValue(a);
          if (n === undefined) t.error(a.loc, `${name}: invalid mode or limit (expected bpftrace, perf, raw or an integer literal)`);
          if (n < 0n || n > BigInt(MAX_STACK_DEPTH)) t.error(a.loc, `${name}: limit must be between 0 and ${MAX_STACK_DEPTH}`);
          limit = Number(n);
        }
      }
      t.res.stackMaps.add(kernel ? 'k' : 'u');
      if (!kernel) wantSeenPid(t, call.loc);
      return stackTy(kernel, mode, limit);
    },
    emit: (_c, g) => emitStack(g, kernel),
  };
}

export const stackVars: VarBuiltin[] = [stackVar(true), stackVar(false)];
export const stackFns: FnBuiltin[] = [stackFn(true), stackFn(false)];
