// `for ($kv : @map) { body }`: the body becomes a BPF subprogram that
// bpf_for_each_map_elem calls once per element, in the kernel's hash order.
//
// A callback runs in a frame of its own: the caller's r6-r9 and stack slots
// are not its registers and slots. So the caller spills its scratch base (r9)
// and ctx (r6) into two adjacent stack slots and passes their address as
// callback_ctx; the callback's prologue loads them back (the verifier restores
// a spilled pointer's type when a callee reads it through a pointer to the
// caller's stack). Everything else the body shares with the probe goes
// through scratch: aggregates (`$kv`, strings) live there anyway, and each
// scalar variable the body mentions gets an exchange slot. The caller stores
// its value there before the call, the callback loads it into a vreg of its
// own on entry, and the ones the body assigns are stored back on every return
// and reloaded by the caller. Inside the callback a variable is then a register
// again, so `$i = 0; while ($i < 3)` stays a loop the verifier can bound;
// variables the body only reads keep the caller's precise value.
//
// Control flow: `continue` returns 0 (next element), `break` returns 1 (stop
// iterating); leaving the probe (`return`, `exit()`, a failed map insert)
// sets a flag in scratch and returns 1, and the caller checks the flag after
// the helper call and leaves the probe itself. Loops nest: an inner loop's
// callback is emitted from the outer one's the same way.
import * as A from '../bpf/asm/index.js';
import type * as AST from '../lang/ast.js';
import type { GenCtx, Operand } from '../builtins/registry.js';
import type { MapInfo } from '../analysis/resources.js';
import { isScalar, type Ty } from '../analysis/types.js';
import { CTX, Emitter, SCRATCH, type Mem, type VReg } from './emitter.js';
import { CodegenError } from './gen.js';

/** A callback emitted for one for-map loop, waiting to be appended after the main program. */
export interface Subprog {
  e: Emitter;
  /** Its first instruction's label (the ldFunc target). */
  entry: string;
  /** The emitter that calls it (the main program's, or an enclosing loop's callback). */
  caller: Emitter;
}

/** What the loop emitter needs from the probe generator (gen.ts ProbeGen). */
export interface ForMapHost extends GenCtx {
  /** Swapped for the callback's emitter while the body is generated. */
  e: Emitter;
  /** Swapped for the callback's "leave the probe" path likewise. */
  exitLabel: string;
  readonly subprogs: Subprog[];
  block(b: AST.Block): void;
  varInfo(name: string): { home: Operand; ty: Ty } | undefined;
  setVarHome(name: string, home: Operand): void;
}

/** Aggregations whose value has no single integer to put in `$kv.1`. */
const NOT_ITERABLE = new Set<MapInfo['agg']>(['hist', 'lhist', 'stats']);

/**
 * The variables a loop body mentions and those it assigns, at any depth
 * (nested loops included): the callback's copies of them, and which of them
 * the caller must reload afterwards.
 */
export function loopVars(body: AST.Block): { mentioned: Set<string>; written: Set<string> } {
  const mentioned = new Set<string>();
  const written = new Set<string>();
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const node = n as Record<string, unknown> & { kind?: string };
    const target = node.target as { kind?: string; name?: string } | undefined;
    switch (node.kind) {
      case 'Var':
        mentioned.add(node.name as string);
        break;
      case 'Let':
        written.add(node.name as string);
        break;
      case 'ForRange':
      case 'ForMap':
        written.add(node.var as string);
        break;
      case 'Assign':
      case 'IncDec':
        if (target?.kind === 'Var') written.add(target.name!);
        break;
    }
    for (const [k, v] of Object.entries(node)) {
      // A Call's assignTarget repeats the assignment's own target.
      if (k !== 'loc' && k !== 'assignTarget') visit(v);
    }
  };
  visit(body);
  for (const w of written) mentioned.add(w);
  return { mentioned, written };
}

export function emitForMap(g: ForMapHost, s: AST.ForMap): void {
  const info = g.map(s.map.name);
  if (NOT_ITERABLE.has(info.agg)) {
    throw new CodegenError(s.map.loc, `for loops cannot iterate over @${info.name}: a ${info.agg}() map has no single value per key; print(@${info.name}) shows it`);
  }
  // The type pass records the loop's element type on the map reference:
  // `$kv` is scoped to its loop, and other loops may use the name otherwise.
  const kvTy = g.typeOf(s.map);
  if (kvTy.k !== 'tuple') throw new CodegenError(s.loc, `internal: $${s.var} of a for loop is not a tuple`);
  let kvMem!: Mem;
  emitCallbackLoop(g, {
    loc: s.loc,
    text: `for ($${s.var} : @${info.name})`,
    loopVar: s.var,
    body: s.body,
    ctxReg: A.R4,
    reserve: (caller) => {
      kvMem = caller.scratch(kvTy.size);
    },
    call: (caller, ld, spill) => {
      caller.mapFd(A.R1, info.name);
      caller.emit(ld, A.mov64Reg(A.R3, A.R10), A.alu64Imm('add', A.R3, spill), A.mov64Imm(A.R4, 0));
      caller.call('for_each_map_elem');
    },
    // The callback: long cb(map, key, value, ctx).
    enter: (cb) => {
      const key = cb.vreg();
      cb.set(key, A.R2);
      const value = cb.vreg();
      cb.set(value, A.R3);
      cb.copy(cb.offset(kvMem, kvTy.offsets[0]), { base: 'ptr', v: key, off: 0 }, kvTy.elems[0].size);
      const valMem = cb.offset(kvMem, kvTy.offsets[1]);
      if (info.agg === 'none') {
        cb.copy(valMem, { base: 'ptr', v: value, off: 0 }, kvTy.elems[1].size);
        cb.free(value);
      } else {
        cb.free(value);
        const total = allCpus(g, cb, info, key);
        cb.get(total, A.R0);
        cb.store('dw', valMem, 0, A.R0);
        cb.free(total);
      }
      cb.free(key);
      return { mem: kvMem };
    },
  });
}

/**
 * `for ($i : a..b)` over a range the verifier cannot walk iteration by
 * iteration (bounds known only at run time, or many iterations): the body
 * becomes a bpf_loop callback, called b - a times with the index; `$i` is
 * a + index. Nothing runs when b <= a.
 */
export function emitForRange(g: ForMapHost, s: AST.ForRange, startV: VReg, endV: VReg): void {
  let startSlot!: Mem;
  emitCallbackLoop(g, {
    loc: s.loc,
    text: `for ($${s.var} : ..)`,
    loopVar: s.var,
    body: s.body,
    ctxReg: A.R2,
    reserve: (caller) => {
      startSlot = caller.scratch(8);
    },
    call: (caller, ld, spill) => {
      const some = caller.newLabel('rng');
      caller.get(startV, A.R0);
      caller.store('dw', startSlot, 0, A.R0);
      caller.get(endV, A.R1);
      caller.emit(A.alu64Reg('sub', A.R1, A.R0), A.jmpImm('jsgt', A.R1, 0, some), A.mov64Imm(A.R1, 0));
      caller.label(some);
      caller.emit(ld, A.mov64Reg(A.R3, A.R10), A.alu64Imm('add', A.R3, spill), A.mov64Imm(A.R4, 0));
      caller.call('loop');
    },
    // The callback: long cb(u32 index, void *ctx).
    enter: (cb) => {
      const i = cb.vreg();
      cb.load('dw', A.R0, startSlot);
      cb.emit(A.alu64Reg('add', A.R0, A.R1));
      cb.set(i, A.R0);
      return { reg: i };
    },
  });
}

interface CallbackLoop {
  loc: AST.Loc;
  /** How the callback is labelled in disassembly and verifier messages. */
  text: string;
  loopVar: string;
  body: AST.Block;
  /** The callback argument register that carries callback_ctx. */
  ctxReg: number;
  /** Reserves the caller scratch the loop's own inputs need (before the shared slots). */
  reserve(caller: Emitter): void;
  /** Emits the helper call; `ld` loads the callback's address into r2, `spill` is callback_ctx's stack offset. */
  call(caller: Emitter, ld: A.Insn, spill: number): void;
  /** The callback's prologue, once r9 and r6 are restored: returns the loop variable's home in the callback. */
  enter(cb: Emitter): Operand;
}

/** The part every callback loop shares: frames, shared variables, break/continue/leave. */
function emitCallbackLoop(g: ForMapHost, l: CallbackLoop): void {
  const caller = g.e;
  const n = g.subprogs.length;
  const prefix = `fm${n}_`;
  const entry = `${prefix}cb`;
  const { mentioned, written } = loopVars(l.body);
  mentioned.delete(l.loopVar);
  const shared: { name: string; outer: VReg; slot: Mem }[] = [];
  // The loop's inputs, the return flag and the exchange slots are the last
  // scratch the caller holds, so the callback's own scratch starts after
  // them and overlaps nothing live.
  l.reserve(caller);
  const flag = caller.scratch(8);
  for (const name of mentioned) {
    const vi = g.varInfo(name);
    if (vi && isScalar(vi.ty) && 'reg' in vi.home) shared.push({ name, outer: vi.home.reg, slot: caller.scratch(8) });
  }
  const cb = new Emitter(`${caller.name}/for${n}`, prefix);
  cb.scratchRelease(caller.scratchMark());
  g.subprogs.push({ e: cb, entry, caller });

  caller.storeImm('dw', flag, 0, 0);
  for (const v of shared) {
    caller.get(v.outer, A.R0);
    caller.store('dw', v.slot, 0, A.R0);
  }
  const spill = caller.stackAlloc(16);
  caller.emit(A.stx('dw', A.R10, spill, SCRATCH), A.stx('dw', A.R10, spill + 8, CTX));
  const ld = A.ldFunc(A.R2, entry);
  ld.comment = l.text;
  l.call(caller, ld, spill);
  for (const v of shared) {
    if (!written.has(v.name)) continue;
    caller.load('dw', A.R0, v.slot);
    caller.set(v.outer, A.R0);
  }
  caller.load('dw', A.R0, flag);
  caller.emit(A.jmpImm('jne', A.R0, 0, g.exitLabel));

  const cont = cb.newLabel('next');
  const brk = cb.newLabel('stop');
  const leave = cb.newLabel('leave');
  cb.label(entry);
  const home = cb.at(l.loc, l.text, () => {
    cb.emit(A.ldx('dw', SCRATCH, l.ctxReg, 0), A.ldx('dw', CTX, l.ctxReg, 8));
    return l.enter(cb);
  });
  const inner = shared.map((v) => {
    const r = cb.vreg();
    cb.load('dw', A.R0, v.slot);
    cb.set(r, A.R0);
    return r;
  });

  const saved = [g.e, g.exitLabel] as const;
  const outerVar = g.varInfo(l.loopVar)?.home;
  g.e = cb;
  g.exitLabel = leave;
  shared.forEach((v, i) => g.setVarHome(v.name, { reg: inner[i] }));
  g.setVarHome(l.loopVar, home);
  cb.loops.push({ brk, cont });
  try {
    g.block(l.body);
  } finally {
    [g.e, g.exitLabel] = saved;
    for (const v of shared) g.setVarHome(v.name, { reg: v.outer });
    if (outerVar) g.setVarHome(l.loopVar, outerVar);
  }
  cb.loops.pop();
  cb.at(l.loc, `end of ${l.text}`, () => {
    // r1 carries the return value past the write-back, which uses r0. The
    // body falls through into `continue`; unused paths are pruned.
    const ret = cb.newLabel('ret');
    cb.label(cont);
    cb.emit(A.mov64Imm(A.R1, 0));
    cb.label(ret);
    shared.forEach((v, i) => {
      if (!written.has(v.name)) return;
      cb.get(inner[i], A.R0);
      cb.store('dw', v.slot, 0, A.R0);
    });
    cb.emit(A.mov64Reg(A.R0, A.R1), A.exit());
    cb.label(brk);
    cb.emit(A.mov64Imm(A.R1, 1), A.ja(ret));
    cb.label(leave);
    cb.emit(A.mov64Imm(A.R1, 1));
    cb.store('dw', flag, 0, A.R1);
    cb.emit(A.ja(ret));
  });
  cb.prune();
}

/**
 * The value of a per-CPU aggregation for the key at `key`, merged over every
 * possible CPU the way the runtime merges it when printing: the callback
 * only sees this CPU's partial value.
 */
function allCpus(g: ForMapHost, e: Emitter, info: MapInfo, key: VReg): VReg {
  const acc = e.constant(0);
  // avg: the count; min/max: whether any CPU had a value.
  const aux = e.constant(0);
  const cpu = e.constant(0);
  const signed = info.value.k === 'int' && info.value.signed;
  const top = e.newLabel('cpu');
  const next = e.newLabel('cpunext');
  const done = e.newLabel('cpudone');
  e.label(top);
  e.get(cpu, A.R3);
  e.emit(A.jmpImm('jge', A.R3, Math.max(1, g.opts.ncpus), done));
  e.mapFd(A.R1, info.name);
  e.get(key, A.R2);
  e.call('map_lookup_percpu_elem');
  e.emit(A.jmpImm('jeq', A.R0, 0, next));
  switch (info.agg) {
    case 'count':
    case 'sum':
      e.get(acc, A.R2);
      e.emit(A.ldx('dw', A.R1, A.R0, 0), A.alu64Reg('add', A.R2, A.R1));
      e.set(acc, A.R2);
      break;
    case 'min':
    case 'max': {
      // Layout {value, set}: CPUs that never saw the key do not count.
      const take = e.newLabel('mmtake');
      e.emit(A.ldx('dw', A.R1, A.R0, 8), A.jmpImm('jeq', A.R1, 0, next), A.ldx('dw', A.R1, A.R0, 0));
      e.get(aux, A.R2);
      e.emit(A.jmpImm('jeq', A.R2, 0, take));
      e.get(acc, A.R2);
      const keep = info.agg === 'min' ? (signed ? 'jsge' : 'jge') : signed ? 'jsle' : 'jle';
      e.emit(A.jmpReg(keep, A.R1, A.R2, next));
      e.label(take);
      e.set(acc, A.R1);
      e.emit(A.mov64Imm(A.R2, 1));
      e.set(aux, A.R2);
      break;
    }
    case 'avg':
      // Layout {count, total}.
      e.get(aux, A.R2);
      e.emit(A.ldx('dw', A.R1, A.R0, 0), A.alu64Reg('add', A.R2, A.R1));
      e.set(aux, A.R2);
      e.get(acc, A.R2);
      e.emit(A.ldx('dw', A.R1, A.R0, 8), A.alu64Reg('add', A.R2, A.R1));
      e.set(acc, A.R2);
      break;
    default:
      throw new Error(`internal: per-CPU merge of ${info.agg}()`);
  }
  e.label(next);
  e.get(cpu, A.R3);
  e.emit(A.alu64Imm('add', A.R3, 1));
  e.set(cpu, A.R3);
  e.emit(A.ja(top));
  e.label(done);
  if (info.agg === 'avg') {
    // Truncating toward zero like bpftrace, without signed division (a newer ISA).
    const out = e.newLabel('avgdone');
    const pos = e.newLabel('avgpos');
    e.get(aux, A.R1);
    e.emit(A.mov64Imm(A.R0, 0), A.jmpImm('jeq', A.R1, 0, out));
    e.get(acc, A.R0);
    e.emit(A.jmpImm('jsge', A.R0, 0, pos), A.neg64(A.R0), A.alu64Reg('div', A.R0, A.R1), A.neg64(A.R0), A.ja(out));
    e.label(pos);
    e.emit(A.alu64Reg('div', A.R0, A.R1));
    e.label(out);
    e.set(acc, A.R0);
  }
  e.free(cpu);
  e.free(aux);
  return acc;
}

/**
 * Appends every loop callback after the main program (which has been pruned:
 * the callbacks are reached only through ldFunc), moving their map
 * relocations along, and records their entries for BTF func_info. Scratch
 * and stack needs become the whole call chain's.
 */
export function appendCallbacks(g: ForMapHost): void {
  const main = g.e;
  if (!g.subprogs.length) return;
  // The verifier adds up the frames of a call chain, each rounded to 32 bytes.
  const frame = (e: Emitter) => Math.ceil(Math.max(e.stackMax, 1) / 32) * 32;
  const chain = new Map<Emitter, number>([[main, frame(main)]]);
  let deepest = chain.get(main)!;
  for (const sp of g.subprogs) {
    const base = main.insns.length;
    main.insns.push(...sp.e.insns);
    for (const r of sp.e.relocs) main.relocs.push({ index: r.index + base, map: r.map });
    main.funcs.push(sp.entry);
    main.scratchMax = Math.max(main.scratchMax, sp.e.scratchMax);
    const depth = (chain.get(sp.caller) ?? frame(sp.caller)) + frame(sp.e);
    chain.set(sp.e, depth);
    deepest = Math.max(deepest, depth);
  }
  main.stackMax = Math.max(main.stackMax, deepest);
}
