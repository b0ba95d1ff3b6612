// Map aggregations: count, sum, min, max, avg, stats, hist, lhist. Values are
// per-CPU and merged in user space, so the kernel side never needs atomics.
import * as A from '../bpf/asm/index.js';
import type { Call, MapRef } from '../lang/ast.js';
import { i64, u64 } from '../analysis/types.js';
import { argCount, intArg } from './args.js';
import type { MapInfo } from '../analysis/resources.js';
import type { FnBuiltin, GenCtx, TypeCtx } from './registry.js';
import type { VReg } from '../codegen/emitter.js';

function target(call: Call, t: TypeCtx): MapRef {
  if (!call.assignTarget) t.error(call.loc, `${call.name}() should be directly assigned to a map`);
  return call.assignTarget;
}

/** Looks up (or creates) this CPU's value for the assigned map key; `bucket` selects a hist/lhist bucket. */
function valuePtr(call: Call, g: GenCtx, bucket?: VReg): VReg {
  const m = call.assignTarget!;
  const info = g.map(m.name);
  const key = g.mapKey(m, info, bucket);
  return g.mapPtrOrInit(info, key);
}

function simple(name: 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stats'): FnBuiltin {
  return {
    names: [name],
    aggregation: true,
    type(call, t) {
      const m = target(call, t);
      if (name === 'count') argCount(call, t, 0);
      else {
        argCount(call, t, 1);
        intArg(call, t, 0);
      }
      const vt = name === 'count' ? u64 : t.typeOf(call.args[0]);
      const signed = vt.k === 'int' && vt.signed;
      t.mapWrite(m, signed || name === 'avg' || name === 'stats' ? i64 : u64, name, call.loc);
      return u64;
    },
    emit(call, g) {
      const e = g.e;
      const v = name === 'count' ? undefined : g.int(call.args[0]);
      const p = valuePtr(call, g);
      e.get(p, A.R1);
      if (v) e.get(v, A.R2);
      switch (name) {
        case 'count':
          e.emit(A.ldx('dw', A.R0, A.R1, 0), A.alu64Imm('add', A.R0, 1), A.stx('dw', A.R1, 0, A.R0));
          break;
        case 'sum':
          e.emit(A.ldx('dw', A.R0, A.R1, 0), A.alu64Reg('add', A.R0, A.R2), A.stx('dw', A.R1, 0, A.R0));
          break;
        case 'min':
        case 'max': {
          // Layout: {value, set}. The first value on a CPU always wins.
          const skip = e.newLabel('mm');
          const write = e.newLabel('mmw');
          const signed = g.map(call.assignTarget!.name).value.k === 'int' && (g.map(call.assignTarget!.name).value as { signed: boolean }).signed;
          e.emit(A.ldx('dw', A.R3, A.R1, 8), A.jmpImm('jeq', A.R3, 0, write), A.ldx('dw', A.R0, A.R1, 0));
          const op = name === 'min' ? (signed ? 'jsge' : 'jge') : signed ? 'jsle' : 'jle';
          e.emit(A.jmpReg(op, A.R2, A.R0, skip));
          e.label(write);
          e.emit(A.stx('dw', A.R1, 0, A.R2), A.mov64Imm(A.R3, 1), A.stx('dw', A.R1, 8, A.R3));
          e.label(skip);
          break;
        }
        case 'avg':
        case 'stats':
          // Layout: {count, total}.
          e.emit(
            A.ldx('dw', A.R0, A.R1, 0), A.alu64Imm('add', A.R0, 1), A.stx('dw', A.R1, 0, A.R0),
            A.ldx('dw', A.R0, A.R1, 8), A.alu64Reg('add', A.R0, A.R2), A.stx('dw', A.R1, 8, A.R0),
          );
          break;
      }
      e.free(v);
      e.free(p);
      return null;
    },
  };
}

/**
 * Bucket index of a log2 histogram with 2^k buckets per power of two, as the
 * output layer indexes them: 0 for negatives, 1 + v for v < 2^k, then for
 * v with top bit L: 1 + (L - k + 1) * 2^k + (the k bits below the top bit).
 */
function emitLog2Bucket(g: GenCtx, v: VReg, k: number): VReg {
  const e = g.e;
  const out = e.vreg();
  const done = e.newLabel('hb');
  e.get(v, A.R1);
  e.emit(A.mov64Imm(A.R0, 0), A.jmpImm('jslt', A.R1, 0, done));
  e.emit(A.mov64Reg(A.R0, A.R1), A.alu64Imm('add', A.R0, 1), A.jmpImm('jlt', A.R1, 1 << k, done));
  // floor(log2(r1)) into r0 by halving the search range.
  e.emit(A.mov64Imm(A.R0, 0));
  for (const s of [32, 16, 8, 4, 2, 1]) {
    const next = e.newLabel('hs');
    e.emit(A.mov64Reg(A.R2, A.R1), A.alu64Imm('rsh', A.R2, s), A.jmpImm('jeq', A.R2, 0, next), A.mov64Reg(A.R1, A.R2), A.alu64Imm('add', A.R0, s));
    e.label(next);
  }
  e.get(v, A.R1);
  e.emit(
    A.mov64Reg(A.R3, A.R0), A.alu64Imm('sub', A.R3, k), A.alu64Reg('rsh', A.R1, A.R3), A.alu64Imm('and', A.R1, (1 << k) - 1),
    A.mov64Reg(A.R0, A.R3), A.alu64Imm('add', A.R0, 1), A.alu64Imm('lsh', A.R0, k), A.alu64Imm('add', A.R0, 1), A.alu64Reg('add', A.R0, A.R1),
  );
  e.label(done);
  e.set(out, A.R0);
  return out;
}

const hist: FnBuiltin = {
  names: ['hist'],
  aggregation: true,
  type(call, t) {
    const m = target(call, t);
    argCount(call, t, 1, 2);
    intArg(call, t, 0);
    let k = 0;
    if (call.args.length === 2) {
      const kv = t.literalInt(call.args[1], 'hist', call.loc);
      if (kv < 0n || kv > 5n) t.error(call.loc, `hist() second argument must be between 0 and 5 (${kv} provided)`);
      k = Number(kv);
    }
    t.mapWrite(m, i64, 'hist', call.loc, { histK: k });
    return u64;
  },
  emit(call, g) {
    const e = g.e;
    const info: MapInfo = g.map(call.assignTarget!.name);
    const v = g.int(call.args[0]);
    const b = emitLog2Bucket(g, v, info.histK ?? 0);
    e.free(v);
    const p = valuePtr(call, g, b);
    e.free(b);
    e.get(p, A.R1);
    e.emit(A.ldx('dw', A.R0, A.R1, 0), A.alu64Imm('add', A.R0, 1), A.stx('dw', A.R1, 0, A.R0));
    e.free(p);
    return null;
  },
};

const lhist: FnBuiltin = {
  names: ['lhist'],
  aggregation: true,
  type(call, t) {
    const m = target(call, t);
    argCount(call, t, 4);
    intArg(call, t, 0);
    const min = t.literalInt(call.args[1], 'lhist', call.loc);
    const max = t.literalInt(call.args[2], 'lhist', call.loc);
    const step = t.literalInt(call.args[3], 'lhist', call.loc);
    // The checks and their order are bpftrace's: min > max also reports the step.
    if (min < 0n) t.error(call.loc, `lhist() min must be non-negative (provided min ${min})`);
    if (min > max) t.report(call.loc, `lhist() min must be less than max (provided min ${min} and max ${max})`);
    if (step <= 0n) t.error(call.loc, `lhist() step must be >= 1 (${step} provided)`);
    if (step > max - min) t.error(call.loc, `lhist() step is too large for the given range (provided step ${step} for range ${max - min})`);
    if ((max - min) / step > 1000n) t.error(call.loc, `lhist() too many buckets, must be <= 1000 (would need ${(max - min) / step})`);
    t.mapWrite(m, i64, 'lhist', call.loc, { lhist: { min, max, step } });
    return u64;
  },
  emit(call, g) {
    const e = g.e;
    const { min, max, step } = g.map(call.assignTarget!.name).lhist!;
    const nb = (max - min) / step;
    const v = g.int(call.args[0]);
    const b = e.vreg();
    const done = e.newLabel('lb');
    e.get(v, A.R1);
    e.free(v);
    // 0: below min; 1..nb: linear buckets; nb+1: at or above max.
    e.emit(A.mov64Imm(A.R0, 0));
    e.loadConst(A.R2, min);
    e.emit(A.jmpReg('jslt', A.R1, A.R2, done));
    e.loadConst(A.R0, nb + 1n);
    e.loadConst(A.R2, max);
    e.emit(A.jmpReg('jsge', A.R1, A.R2, done));
    e.loadConst(A.R2, min);
    e.emit(A.alu64Reg('sub', A.R1, A.R2), A.mov64Reg(A.R0, A.R1));
    e.loadConst(A.R2, step);
    e.emit(A.alu64Reg('div', A.R0, A.R2), A.alu64Imm('add', A.R0, 1));
    e.label(done);
    e.set(b, A.R0);
    const p = valuePtr(call, g, b);
    e.free(b);
    e.get(p, A.R1);
    e.emit(A.ldx('dw', A.R0, A.R1, 0), A.alu64Imm('add', A.R0, 1), A.stx('dw', A.R1, 0, A.R0));
    e.free(p);
    return null;
  },
};

export const aggregationBuiltins: FnBuiltin[] = [
  simple('count'), simple('sum'), simple('min'), simple('max'), simple('avg'), simple('stats'), hist, lhist,
];
