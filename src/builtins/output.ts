// Functions whose effect happens in user space: printf and friends, print,
// clear/zero, exit, time, cat, system, join. Each sends one event record; the
// runtime formats it, so the kernel side only packs argument values.
import * as A from '../bpf/asm/index.js';
import type { Call, Expr } from '../lang/ast.js';
import { isScalar, kindName, strTy, tyName, u64, none, type Ty } from '../analysis/types.js';
import type { EventKind } from '../analysis/resources.js';
import type { FnBuiltin, GenCtx, TypeCtx } from './registry.js';
import { argCount } from './args.js';
import { checkFormatArgs, parseFormat } from '../output/printf.js';

/** Checks a printf-style call's arguments against its format, with bpftrace's wording. */
export function checkPrintfArgs(fn: string, fmt: string, args: Ty[]): string | undefined {
  return checkFormatArgs(parseFormat(fmt), args.map(kindName), fn);
}

const countArgs = argCount;

/** The stored form of an event argument: integers widen to 64 bits, aggregates keep their type. */
function argTy(t: Ty): Ty {
  if (t.k === 'int') return { ...t, size: 8 };
  return t;
}

function packArgs(g: GenCtx, args: Expr[], spec: { layout: { offsets: number[]; elems: Ty[] } }, payload: import('../codegen/emitter.js').Mem): void {
  args.forEach((a, i) => {
    const src = g.expr(a);
    const ty = spec.layout.elems[i];
    g.storeValue(g.e.offset(payload, spec.layout.offsets[i]), src, g.typeOf(a), ty.size, ty);
    if ('reg' in src) g.e.free(src.reg);
  });
}

function formatted(kind: EventKind, names: string[], opts: { unsafe?: boolean; exits?: boolean } = {}): FnBuiltin {
  return {
    names,
    unsafe: opts.unsafe,
    type(call, t) {
      countArgs(call, t, 1, 129);
      const fmt = t.literalString(call.args[0], call.name, call.loc);
      // bpftrace 0.17 names an aggregation map's value by its function
      // (`count supplied`), which no conversion accepts.
      const aggs = call.args.slice(1).map((a) => (a.kind === 'Map' ? t.res.maps.get(a.name)?.agg : undefined));
      if (aggs.some((x) => x && x !== 'none')) {
        const names = call.args.slice(1).map((a, i) => {
          const agg = aggs[i];
          return agg && agg !== 'none' ? agg : kindName(t.typeOf(a));
        });
        const err = checkFormatArgs(parseFormat(fmt), names, call.name);
        if (err) t.error(call.loc, err);
      }
      const tys = call.args.slice(1).map((a) => {
        const ty = t.typeOf(a);
        if (ty.k === 'none') t.error(a.loc, `${call.name}() argument has no value`);
        return argTy(ty);
      });
      const err = checkPrintfArgs(call.name, fmt, tys);
      if (err) t.error(call.loc, err);
      t.setEventFor(call, t.eventFor(call) ?? t.addEvent(kind, tys, call.loc, { fmt }));
      return none;
    },
    emit(call, g) {
      const spec = g.eventFor(call);
      g.sendEvent(spec, (p) => packArgs(g, call.args.slice(1), spec, p));
      if (opts.exits) g.exitProbe();
      return null;
    },
  };
}

const printf = formatted('printf', ['printf']);
const errorf = formatted('errorf', ['errorf']);
const warnf = formatted('warnf', ['warnf']);
/**
 * debugf(): as in bpftrace 0.17, bpf_trace_printk() from the probe (the text
 * goes to the kernel's trace_pipe, not to our output), with 0.17's warning
 * and its limit of three conversions.
 */
const debugf: FnBuiltin = {
  names: ['debugf'],
  type(call, t) {
    countArgs(call, t, 1, 129);
    t.warn(call.loc, 'The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).');
    const fmt = t.literalString(call.args[0], call.name, call.loc);
    const tys = call.args.slice(1).map((a) => {
      const ty = t.typeOf(a);
      if (ty.k === 'none') t.error(a.loc, `${call.name}() argument has no value`);
      return argTy(ty);
    });
    // bpftrace 0.17 passes on to bpf_trace_printk() only %d %u %x %p %s (with l/ll); the rest is refused first.
    const spec = parseFormat(fmt);
    const bad = spec.conversions.find((c) => !/^[duxps]$/.test(c.conv) || !['', 'l', 'll'].includes(c.length));
    if (bad) t.error(call.loc, `debugf: Unknown format string token: %${bad.length}${bad.conv}`);
    const err = checkPrintfArgs(call.name, fmt, tys);
    if (err) t.error(call.loc, err);
    if (spec.conversions.length > 3) t.error(call.loc, 'debugf: Cannot use more than 3 conversion specifiers');
    return none;
  },
  emit(call, g) {
    const e = g.e;
    // Integers are 64-bit: a conversion without a length modifier gets `ll`.
    const fmt = (call.args[0] as { value: string }).value.replace(/%([-+ #0]*\d*(?:\.\d+)?)([dux])/g, '%$1ll$2');
    const bytes = Buffer.concat([Buffer.from(fmt), Buffer.alloc(1)]);
    const size = Math.ceil(bytes.length / 4) * 4;
    const regs = call.args.slice(1).map((a) => {
      const t = g.typeOf(a);
      if (t.k === 'str' || t.k === 'buf') {
        const m = g.mem(a);
        const v = e.vreg();
        e.addr(m, A.R0);
        e.set(v, A.R0);
        return v;
      }
      return g.int(a);
    });
    const mem = e.scratch(size);
    const padded = Buffer.concat([bytes, Buffer.alloc(size - bytes.length)]);
    for (let i = 0; i < size; i += 4) e.storeImm('w', mem, i, padded.readInt32LE(i));
    regs.forEach((v, i) => {
      e.get(v, A.R3 + i);
      e.free(v);
    });
    e.addr(mem, A.R1);
    e.loadConst(A.R2, bytes.length);
    e.call('trace_printk');
    return null;
  },
};
const system = formatted('system', ['system'], { unsafe: true });

const print: FnBuiltin = {
  names: ['print'],
  type(call, t) {
    countArgs(call, t, 1, 3);
    const a = call.args[0];
    if (a.kind === 'Map' && !a.keys) {
      const m = t.mapArg(a, 'print');
      let top = 0n;
      let div = 0n;
      if (call.args.length > 1) top = t.literalInt(call.args[1], 'print', call.loc);
      if (call.args.length > 2) div = t.literalInt(call.args[2], 'print', call.loc);
      t.setEventFor(call, t.eventFor(call) ?? t.addEvent('print_map', [], call.loc, { map: m.name, fmt: `${top},${div}` }));
      return none;
    }
    if (call.args.length > 1 && a.kind === 'Map') t.error(call.loc, 'The map passed to print() should not be indexed by a key');
    if (call.args.length > 1) t.error(call.loc, 'Non-map print() only takes 1 argument');
    const ty = t.typeOf(a);
    if (ty.k === 'none') t.error(a.loc, 'print() argument has no value');
    t.setEventFor(call, t.eventFor(call) ?? t.addEvent('print_value', [argTy(ty)], call.loc));
    return none;
  },
  emit(call, g) {
    const spec = g.eventFor(call);
    if (spec.kind === 'print_map') g.sendEvent(spec, () => {});
    else g.sendEvent(spec, (p) => packArgs(g, call.args, spec, p));
    return null;
  },
};

function mapEvent(kind: 'clear' | 'zero'): FnBuiltin {
  return {
    names: [kind],
    type(call, t) {
      countArgs(call, t, 1, 1);
      const a = call.args[0];
      if (a.kind !== 'Map') return t.error(call.loc, `${kind}() expects a map to be provided`);
      if (a.keys) t.error(call.loc, `The map passed to ${kind}() should not be indexed by a key`);
      const m = t.mapArg(a, kind);
      t.setEventFor(call, t.eventFor(call) ?? t.addEvent(kind, [], call.loc, { map: m.name }));
      return none;
    },
    emit(call, g) {
      g.sendEvent(g.eventFor(call), () => {});
      return null;
    },
  };
}

const exit: FnBuiltin = {
  names: ['exit'],
  type(call, t) {
    countArgs(call, t, 0, 1);
    if (call.args.length) {
      const ty = t.typeOf(call.args[0]);
      if (ty.k !== 'int') t.error(call.loc, `exit() only supports integer arguments (${kindName(ty)} provided)`);
    }
    t.setEventFor(call, t.eventFor(call) ?? t.addEvent('exit', [u64], call.loc));
    return none;
  },
  emit(call, g) {
    const spec = g.eventFor(call);
    g.sendEvent(spec, (p) => {
      if (call.args.length) packArgs(g, call.args, spec, p);
      else g.e.storeImm('dw', p, 0, 0);
    });
    g.exitProbe();
    return null;
  },
};

const time: FnBuiltin = {
  names: ['time'],
  type(call, t) {
    countArgs(call, t, 0, 1);
    const fmt = call.args.length ? t.literalString(call.args[0], 'time', call.loc) : '%H:%M:%S\n';
    t.setEventFor(call, t.eventFor(call) ?? t.addEvent('time', [], call.loc, { fmt }));
    return none;
  },
  emit(call, g) {
    g.sendEvent(g.eventFor(call), () => {});
    return null;
  },
};

const cat: FnBuiltin = {
  names: ['cat'],
  type(call, t) {
    countArgs(call, t, 1, 129);
    const fmt = t.literalString(call.args[0], 'cat', call.loc);
    const tys = call.args.slice(1).map((a) => argTy(t.typeOf(a)));
    const err = checkPrintfArgs('cat', fmt, tys);
    if (err) t.error(call.loc, err);
    t.setEventFor(call, t.eventFor(call) ?? t.addEvent('cat', tys, call.loc, { fmt }));
    return none;
  },
  emit(call, g) {
    const spec = g.eventFor(call);
    g.sendEvent(spec, (p) => packArgs(g, call.args.slice(1), spec, p));
    return null;
  },
};

/** join(argv[, sep]): up to 16 strings read from an array of pointers. */
export const JOIN_ARGS = 16;
const join: FnBuiltin = {
  names: ['join'],
  type(call, t) {
    countArgs(call, t, 1, 2);
    const ty = t.typeOf(call.args[0]);
    if (ty.k !== 'int' && ty.k !== 'ptr') t.error(call.loc, `join() only supports int or pointer arguments (${kindName(ty)} provided)`);
    const sep = call.args.length > 1 ? t.literalString(call.args[1], 'join', call.loc) : ' ';
    const per = Math.min(t.opts.maxStrlen, 256);
    const args = Array.from({ length: JOIN_ARGS }, () => strTy(per));
    t.setEventFor(call, t.eventFor(call) ?? t.addEvent('join', args, call.loc, { sep }));
    return none;
  },
  emit(call, g) {
    const e = g.e;
    const spec = g.eventFor(call);
    const base = g.int(call.args[0]);
    const per = spec.layout.elems[0].size;
    g.sendEvent(spec, (p) => {
      const done = e.newLabel('jdone');
      const ptr = e.scratch(8);
      for (let i = 0; i < JOIN_ARGS; i++) {
        const slot = e.offset(p, spec.layout.offsets[i]);
        e.storeImm('b', slot, 0, 0);
      }
      for (let i = 0; i < JOIN_ARGS; i++) {
        // argv[i]: a user pointer; a NULL ends the list.
        e.get(base, A.R3);
        e.emit(A.alu64Imm('add', A.R3, i * 8));
        g.probeRead(ptr, 8, A.R3, true);
        e.load('dw', A.R3, ptr);
        e.emit(A.jmpImm('jeq', A.R3, 0, done));
        g.probeRead(e.offset(p, spec.layout.offsets[i]), per, A.R3, true, true);
      }
      e.label(done);
    });
    e.free(base);
    return null;
  },
};

const del: FnBuiltin = {
  names: ['delete'],
  type(call, t) {
    countArgs(call, t, 1, 2);
    const a = call.args[0];
    if (a.kind !== 'Map') return t.error(call.loc, 'delete() expects a map to be provided');
    const m = t.mapArg(a, 'delete');
    if (call.args.length === 2) {
      if (a.keys) t.error(call.loc, 'delete() takes a map and a key, or a map element');
      keyArity(call, t, m.keys, call.args[1]);
    } else if (!a.keys && m.keys) t.error(call.loc, 'delete() expects a map with explicit keys (non-scalar map)');
    if (m.agg === 'hist' || m.agg === 'lhist') t.error(call.loc, `delete() of one key of a ${m.agg}() map is not supported`);
    return none;
  },
  emit(call, g) {
    const a = call.args[0] as Expr & { kind: 'Map' };
    const info = g.map(a.name);
    const ref = call.args.length === 2 ? { ...a, keys: tupleKeys(call.args[1]) } : a;
    if (info.agg === 'hist' || info.agg === 'lhist') {
      // Buckets are separate BPF keys; user space removes them all on the next read.
      throw new Error(`delete() of one key of a ${info.agg}() map is not supported yet`);
    }
    g.mapDelete(info, g.mapKey(ref, info));
    return null;
  },
};

/** A key given as a separate argument (`delete(@m, k)`, `has_key(@m, k)`) must have the map's key count. */
function keyArity(call: Call, t: TypeCtx, keys: Ty[] | null, k: Expr): void {
  t.typeOf(k);
  const n = tupleKeys(k).length;
  const want = keys?.length ?? 0;
  if (n !== want) t.error(call.loc, `${call.name}(): the map has ${want} key${want === 1 ? '' : 's'}, ${n} given`);
}

function tupleKeys(k: Expr): Expr[] {
  return k.kind === 'Tuple' ? k.elems : [k];
}

const hasKey: FnBuiltin = {
  names: ['has_key'],
  type(call, t) {
    countArgs(call, t, 2, 2);
    if (call.args[0].kind !== 'Map' || call.args[0].keys) t.error(call.loc, 'has_key() expects a map to be provided');
    const m = t.mapArg(call.args[0], 'has_key');
    keyArity(call, t, m.keys, call.args[1]);
    return u64;
  },
  emit(call, g) {
    const a = call.args[0] as Expr & { kind: 'Map' };
    const info = g.map(a.name);
    const p = g.mapLookup(info, g.mapKey({ ...a, keys: tupleKeys(call.args[1]) }, info));
    const e = g.e;
    const t = e.newLabel('hk');
    e.get(p, A.R1);
    e.emit(A.mov64Imm(A.R0, 0), A.jmpImm('jeq', A.R1, 0, t), A.mov64Imm(A.R0, 1), A.label(t));
    e.set(p, A.R0);
    return { reg: p };
  },
};

export const outputBuiltins: FnBuiltin[] = [
  printf, errorf, warnf, debugf, system, print, mapEvent('clear'), mapEvent('zero'), exit, time, cat, join, del, hasKey,
];

export { isScalar };
