// The type pass: gives every expression of a probe a type for one concrete
// target, declares scratch variables, and unifies map types across the whole
// program. Diagnostics are collected, not thrown, so a user sees every error
// at once, as bpftrace shows them.
import type * as AST from '../lang/ast.js';
import type { Call, Expr, Loc, Stmt } from '../lang/ast.js';
import { toBytes, type Diagnostic } from '../lang/diagnostics.js';
import type { ProbeTarget } from '../probes/provider.js';
import type { CompileOptions, Registry, TypeCtx } from '../builtins/registry.js';
import { Resources, type EventKind, type EventSpec, type MapInfo } from './resources.js';
import {
  arithResult, i64, intTy, isInt, kindName, strTy, tupleTy, tyName, u64, ctypeToTy, type CType, type Ty,
} from './types.js';
import type { CTypes } from './ctypes.js';
import { displayName } from './scopes.js';

/** Thrown inside the pass to abandon the current statement after a diagnostic. */
class Abandon extends Error {}

export interface ProbeTypes {
  types: Map<Expr, Ty>;
  vars: Map<string, Ty>;
  /** Values of sizeof/offsetof, known at compile time. */
  consts: Map<Expr, bigint>;
}

const INT_TYPES: Record<string, [1 | 2 | 4 | 8, boolean]> = {
  int8: [1, true], uint8: [1, false], int16: [2, true], uint16: [2, false], int32: [4, true], uint32: [4, false],
  int64: [8, true], uint64: [8, false], char: [1, true], 'unsigned char': [1, false], short: [2, true],
  'unsigned short': [2, false], int: [4, true], 'unsigned int': [4, false], unsigned: [4, false],
  long: [8, true], 'unsigned long': [8, false], 'long long': [8, true], 'unsigned long long': [8, false],
  bool: [1, false], u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false],
  s8: [1, true], s16: [2, true], s32: [4, true], s64: [8, true], pid_t: [4, true], size_t: [8, false],
};

export class Checker implements TypeCtx {
  readonly diagnostics: Diagnostic[] = [];
  target!: ProbeTarget;
  private types = new Map<Expr, Ty>();
  private vars = new Map<string, Ty>();
  /** Variables declared by `let $x;` alone, whose type their first assignment sets. */
  private untyped = new Set<string>();
  private consts = new Map<Expr, bigint>();
  private readonly callEvents = new Map<Call, EventSpec>();
  private loopDepth = 0;

  constructor(
    readonly program: AST.Program,
    readonly reg: Registry,
    readonly opts: CompileOptions,
    readonly res: Resources,
    readonly ctypes: CTypes,
  ) {}

  checkProbe(probe: AST.Probe, target: ProbeTarget): ProbeTypes {
    this.target = target;
    this.types = new Map();
    this.vars = new Map();
    this.untyped = new Set();
    this.consts = new Map();
    if (probe.predicate) this.guard(() => this.cond(probe.predicate!, 'predicate'));
    this.block(probe.body);
    return { types: this.types, vars: this.vars, consts: this.consts };
  }

  // ------------------------------------------------------------ diagnostics

  error(loc: Loc, msg: string): never {
    this.diagnostics.push({ severity: 'error', message: displayName(msg), loc });
    throw new Abandon();
  }
  warn(loc: Loc, msg: string): void {
    msg = displayName(msg);
    if (!this.diagnostics.some((d) => d.loc === loc && d.message === msg)) this.diagnostics.push({ severity: 'warning', message: msg, loc });
  }
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Abandon)) throw e;
    }
  }

  // ------------------------------------------------------------- statements

  private block(b: AST.Block): void {
    for (const s of b.stmts) this.guard(() => this.stmt(s));
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'ExprStmt': {
        const e = s.expr;
        if (e.kind === 'Call') {
          const fn = this.reg.fn(e.name);
          if (fn?.aggregation) this.error(e.loc, `${e.name}() should be directly assigned to a map`);
        }
        this.typeOf(e);
        return;
      }
      case 'Assign':
        return this.assign(s);
      case 'Let': {
        let ty: Ty | undefined;
        if (s.type) ty = this.typeSpec(s.type);
        if (s.value) {
          const v = this.typeOf(s.value);
          if (!ty) ty = this.storageType(v);
        }
        if (ty) this.declareVar(s.name, ty, s.loc);
        else if (!this.vars.has(s.name)) {
          // `let $b;`: an integer 0 until its first assignment gives it a type (`$b = "hello"`).
          this.vars.set(s.name, i64);
          this.untyped.add(s.name);
        }
        return;
      }
      case 'If':
        this.guard(() => this.cond(s.cond, 'if'));
        this.block(s.then);
        if (s.else) this.guard(() => this.stmt(s.else!));
        return;
      case 'Unroll': {
        // bpftrace points at `unroll(N)`, closing parenthesis included.
        const at = this.throughParen(s.count.loc);
        const n = this.literalInt(s.count, 'unroll', at);
        if (n > 100n) this.error(at, 'unroll maximum value is 100');
        if (n < 1n) this.error(at, 'unroll minimum value is 1');
        this.block(s.body);
        return;
      }
      case 'While':
        this.guard(() => this.cond(s.cond));
        this.loopDepth++;
        this.block(s.body);
        this.loopDepth--;
        return;
      case 'ForRange': {
        const a = this.typeOf(s.start);
        const b = this.typeOf(s.end);
        if (!isInt(a) || !isInt(b)) this.error(s.loc, 'Loop range requires integer expressions');
        this.declareVar(s.var, i64, s.loc);
        this.loopDepth++;
        this.block(s.body);
        this.loopDepth--;
        return;
      }
      case 'ForMap': {
        const m = this.res.maps.get(s.map.name);
        if (!m) this.error(s.map.loc, `Undefined map: @${s.map.name}`);
        if (s.map.keys) this.error(s.map.loc, 'for loops iterate over a whole map: remove the key');
        m.used = true;
        m.iterated = true;
        const key = m.keys ? (m.keys.length === 1 ? m.keys[0] : tupleTy(m.keys)) : u64;
        const kv = tupleTy([key, this.mapReadType(m)]);
        // The loop's own element type, for codegen (formap.ts homes $kv per loop).
        this.types.set(s.map, kv);
        // $kv is scoped to its loop, as in bpftrace: another loop may reuse
        // the name over a map of other types.
        const outer = this.vars.get(s.var);
        this.vars.set(s.var, kv);
        this.loopDepth++;
        this.block(s.body);
        this.loopDepth--;
        if (outer) this.vars.set(s.var, outer);
        else this.vars.delete(s.var);
        return;
      }
      case 'Break':
      case 'Continue':
        if (this.loopDepth === 0) this.error(s.loc, `${s.kind.toLowerCase()} used outside of a loop`);
        return;
      case 'Return':
        return;
      case 'Block':
        this.block(s);
        return;
    }
  }

  /** A condition must be an integer or a pointer; the wording and place are bpftrace's for each construct. */
  private cond(e: Expr, where?: 'predicate' | 'if' | 'ternary', whole?: Loc): void {
    const t = this.typeOf(e);
    if (t.k === 'int' || t.k === 'ptr') return;
    // bpftrace's if statement has no location of its own: it reports at 1:1.
    if (where === 'if') this.error({ line: 1, col: 1, endLine: 1, endCol: 1, start: 0, end: 0 }, `Invalid condition in if(): ${kindName(t)}`);
    if (where === 'predicate') this.error(this.through(e.loc, '/'), `Invalid type for predicate: ${kindName(t)}`);
    if (where === 'ternary') this.error(whole ?? e.loc, `Invalid condition in ternary: ${kindName(t)}`);
    this.error(e.loc, `Invalid condition: ${tyName(t)}`);
  }

  /** The map an assignment being typed writes, so reading it on the right-hand side is not "undefined". */
  private assigningMap: string | undefined;

  private assign(s: AST.Assign): void {
    if (s.target.kind === 'Map') {
      const saved = this.assigningMap;
      this.assigningMap = s.target.name;
      try {
        return this.assignInner(s);
      } finally {
        this.assigningMap = saved;
      }
    }
    return this.assignInner(s);
  }

  private assignInner(s: AST.Assign): void {
    if (s.target.kind === 'Var') {
      const v = this.valueOrCascade(s, s.target.name);
      if (v.k === 'none') this.error(s.value.loc, `Value of type none cannot be assigned to a variable`);
      if (s.op !== '=') {
        const cur = this.vars.get(s.target.name);
        if (!cur) this.error(s.target.loc, `Undefined or undeclared variable: $${s.target.name}`);
        if (!isInt(cur) || !isInt(v)) this.error(s.loc, `Compound assignment requires integers`);
        this.signWarnings(s.op.slice(0, -1), s.target, cur, s.value, v, s.opLoc ?? s.loc);
        this.types.set(s.target, cur);
        return;
      }
      // bpftrace points a variable's type mismatch at the `=`.
      this.declareVar(s.target.name, this.storageType(v), s.opLoc ?? s.loc);
      this.types.set(s.target, this.vars.get(s.target.name)!);
      return;
    }
    // Map assignment: aggregations are typed by the call itself.
    const val = s.value;
    if (s.op === '=' && val.kind === 'Call' && this.reg.fn(val.name)?.aggregation) {
      val.assignTarget = s.target;
      this.typeOf(val);
      const info = this.res.maps.get(s.target.name);
      if (info) this.types.set(s.target, this.mapReadType(info));
      return;
    }
    const v = this.typeOf(val);
    if (v.k === 'none') this.error(val.loc, `Value of type none cannot be assigned to a map`);
    if (s.op !== '=') {
      if (!isInt(v)) this.error(s.loc, `Compound assignment requires integers`);
      const existing = this.res.maps.get(s.target.name);
      // A map first written by `@m op= v` holds unsigned values in bpftrace 0.17 (`@c -= 1` prints 2^64-1).
      const info = this.mapWrite(s.target, existing ? (existing.agg !== 'none' ? existing.value : i64) : u64, existing?.agg ?? 'none', s.loc);
      if (info.agg !== 'none' && info.agg !== 'count' && info.agg !== 'sum') this.error(s.loc, `Compound assignment on a ${info.agg}() map`);
      if (existing) this.signWarnings(s.op.slice(0, -1), s.target, this.mapReadType(info), s.value, v, s.opLoc ?? s.loc);
      this.types.set(s.target, this.mapReadType(info));
      return;
    }
    const info = this.mapWrite(s.target, this.storageType(v), 'none', s.loc);
    this.types.set(s.target, info.value);
  }

  /** Integers are stored as 64-bit; strings keep their size. */
  private storageType(t: Ty): Ty {
    if (t.k === 'int') return { ...t, size: 8 };
    return t;
  }

  private declareVar(name: string, ty: Ty, loc: Loc): void {
    const cur = this.vars.get(name);
    if (!cur || this.untyped.delete(name)) {
      this.vars.set(name, ty);
      return;
    }
    const merged = this.unify(cur, ty);
    if (!merged && cur.k === 'tuple' && ty.k === 'tuple') this.error(loc, `Tuple type mismatch: ${tyName(cur)} != ${tyName(ty)}.`);
    if (!merged) this.error(loc, `Type mismatch for $${name}: trying to assign value of type '${tyName(ty)}' when variable already contains a value of type '${tyName(cur)}'`);
    this.vars.set(name, merged);
  }

  /** The common type of two values stored in one place, or undefined when they cannot share it. */
  unify(a: Ty, b: Ty): Ty | undefined {
    if (a.k === 'int' && b.k === 'int') return a.size >= b.size ? a : b;
    if (a.k === 'str' && b.k === 'str') return strTy(Math.max(a.size, b.size));
    if (a.k === 'buf' && b.k === 'buf') return { k: 'buf', size: Math.max(a.size, b.size) };
    if (a.k === 'inet' && b.k === 'inet') return a.size >= b.size ? a : b;
    if (a.k === 'tuple' && b.k === 'tuple') {
      if (a.elems.length !== b.elems.length) return undefined;
      const elems: Ty[] = [];
      for (let i = 0; i < a.elems.length; i++) {
        const u = this.unify(a.elems[i], b.elems[i]);
        if (!u) return undefined;
        elems.push(u);
      }
      return tupleTy(elems);
    }
    if (a.k === 'ptr' && b.k === 'ptr') return a;
    if (a.k === b.k && tyName(a) === tyName(b)) return a;
    return undefined;
  }

  // ------------------------------------------------------------------ maps

  mapWrite(m: Expr, value: Ty, agg: MapInfo['agg'], loc: Loc, extra: Partial<MapInfo> = {}): MapInfo {
    if (m.kind !== 'Map') this.error(m.loc, 'expected a map');
    const keys = m.keys ? m.keys.map((k) => this.keyType(k)) : null;
    const cur = this.res.maps.get(m.name);
    if (!cur) {
      const info: MapInfo = { name: m.name, keys, value, agg, loc, used: true, ...extra };
      this.res.maps.set(m.name, info);
      return info;
    }
    // bpftrace points at the map and leaves the closing quote out.
    const mismatch = (now: string, before: string): never =>
      this.error(m.loc, `Type mismatch for @${m.name}: trying to assign value of type '${now}' when map already contains a value of type '${before}`);
    if (cur.agg !== agg) mismatch(agg === 'none' ? tyName(value) : agg, cur.agg === 'none' ? tyName(cur.value) : cur.agg);
    this.unifyKeys(cur, keys, m.loc);
    const v = this.unify(cur.value, value);
    cur.value = v ?? mismatch(tyName(value), tyName(cur.value));
    if (extra.lhist && cur.lhist && (extra.lhist.min !== cur.lhist.min || extra.lhist.max !== cur.lhist.max || extra.lhist.step !== cur.lhist.step))
      this.error(loc, `Different lhist bounds in a single map unsupported`);
    if (extra.histK !== undefined && cur.histK !== undefined && extra.histK !== cur.histK) this.error(loc, `Different hist bucket sizes in a single map unsupported`);
    return cur;
  }

  private unifyKeys(cur: MapInfo, keys: Ty[] | null, loc: Loc): void {
    const a = cur.keys;
    // bpftrace 0.17 keys every integer as an unsigned int64, and names it so.
    const names = (k: Ty[] | null) => (k ?? []).map((t) => (t.k === 'int' ? 'unsigned int64' : tyName(t))).join(', ');
    const fail = () => this.error(loc, `Argument mismatch for @${cur.name}: trying to access with arguments: [${names(keys)}] when map expects arguments: [${names(a)}]`);
    if ((a === null) !== (keys === null) || (a && keys && a.length !== keys.length)) fail();
    if (!a || !keys) return;
    const merged: Ty[] = [];
    for (let i = 0; i < a.length; i++) {
      const u = this.unify(a[i], keys[i]);
      if (!u) fail();
      merged.push(u!);
    }
    a.splice(0, a.length, ...merged);
  }

  private keyType(k: Expr): Ty {
    const t = this.typeOf(k);
    if (t.k === 'none') this.error(k.loc, 'Key expression has no value');
    if (t.k === 'record' || t.k === 'array') this.error(k.loc, `${tyName(t)} cannot be used as a map key`);
    return this.storageType(t);
  }

  mapArg(e: Expr, fn: string): MapInfo {
    if (e.kind !== 'Map') this.error(e.loc, `${fn}() expects a map argument`);
    const m = this.res.maps.get(e.name);
    if (!m) this.error(e.loc, `Undefined map: @${e.name}`);
    m.used = true;
    if (e.keys) for (const k of e.keys) this.typeOf(k);
    return m;
  }

  /** What reading a map element yields in the kernel. */
  mapReadType(m: MapInfo): Ty {
    switch (m.agg) {
      case 'count':
        return u64;
      case 'sum':
      case 'min':
      case 'max':
      case 'avg':
        return m.value.k === 'int' && !m.value.signed && m.agg !== 'avg' ? u64 : i64;
      case 'stats':
      case 'hist':
      case 'lhist':
        return i64;
      default:
        return m.value;
    }
  }

  // ----------------------------------------------------------------- events

  addEvent(kind: EventKind, args: Ty[], loc: Loc, extra: Partial<EventSpec> = {}): EventSpec {
    return this.res.addEvent(kind, args, loc, extra);
  }
  eventFor(call: Call): EventSpec | undefined {
    return this.callEvents.get(call);
  }
  setEventFor(call: Call, e: EventSpec): void {
    this.callEvents.set(call, e);
  }
  get eventsByCall(): Map<Call, EventSpec> {
    return this.callEvents;
  }

  literalString(e: Expr, fn: string, at?: Loc): string {
    if (e.kind === 'Str') return e.value;
    if (e.kind === 'Positional') return this.opts.positional[e.index - 1] ?? '';
    this.error(at ?? e.loc, `${fn}() expects a string literal (${kindName(this.typeOf(e))} provided)`);
  }
  literalInt(e: Expr, fn: string, at?: Loc): bigint {
    const v = this.constValue(e);
    // "a integer" is bpftrace's wording.
    if (v === undefined) this.error(at ?? e.loc, `${fn}() expects a integer literal (${kindName(this.typeOf(e))} provided)`);
    return v;
  }
  report(loc: Loc, msg: string): void {
    this.diagnostics.push({ severity: 'error', message: displayName(msg), loc });
  }

  /** Folds integer constant expressions (literals, positional parameters, arithmetic on them). */
  constValue(e: Expr): bigint | undefined {
    return foldConst(e, this.opts.positional);
  }

  // ------------------------------------------------------------ expressions

  typeOf(e: Expr): Ty {
    const known = this.types.get(e);
    if (known) return known;
    const t = this.infer(e);
    this.types.set(e, t);
    return t;
  }

  private infer(e: Expr): Ty {
    switch (e.kind) {
      case 'Int':
        return e.value > 0x7fffffffffffffffn ? u64 : i64;
      case 'Bool':
        // bpftrace 0.17 reads `true`/`false` as the unsigned integers 1 and 0.
        return u64;
      case 'Str':
        return strTy(Buffer.byteLength(e.value) + 1);
      case 'Positional': {
        const s = this.opts.positional[e.index - 1];
        if (s !== undefined && !/^-?(0x[0-9a-f]+|\d+)$/i.test(s)) return strTy(Buffer.byteLength(s) + 1);
        return i64;
      }
      case 'PositionalCount':
        return i64;
      case 'Var': {
        const t = this.vars.get(e.name);
        if (!t) this.error(e.loc, `Undefined or undeclared variable: $${e.name}`);
        return t;
      }
      case 'Map': {
        const m = this.res.maps.get(e.name);
        // `@x = @x + 1` where nothing else writes @x: bpftrace reads an unset map as 0.
        if (!m && this.assigningMap === e.name) return i64;
        if (!m) this.error(e.loc, `Undefined map: @${e.name}`);
        m.used = true;
        this.unifyKeys(m, e.keys ? e.keys.map((k) => this.keyType(k)) : null, e.loc);
        if (m.agg === 'hist' || m.agg === 'lhist' || m.agg === 'stats')
          this.error(e.loc, `${m.agg}() map values cannot be read in a probe; print them instead`);
        return this.mapReadType(m);
      }
      case 'Builtin': {
        const b = this.reg.variable(e.name);
        if (!b) this.error(e.loc, `Unknown identifier: '${e.name}'`);
        return b.type(e, this);
      }
      case 'Call': {
        const fn = this.reg.fn(e.name);
        if (!fn) this.error(e.nameLoc ?? e.loc, `Unknown function: ${e.name}`);
        // Reported, not fatal: bpftrace goes on to check the call itself.
        if (fn.unsafe && !this.opts.unsafe) this.report(e.loc, `${e.name}() is an unsafe function being used in safe mode`);
        const ty = fn.type(e, this);
        // Arguments a builtin's rule did not look at are still checked (and
        // typed, so code generation never meets an unchecked expression);
        // not whole maps (`clear(@m)`) nor mode words (`nsecs(boot)`).
        for (const a of e.args) {
          if (this.types.has(a) || (a.kind === 'Map' && !a.keys) || (a.kind === 'Builtin' && !this.reg.variable(a.name))) continue;
          this.typeOf(a);
        }
        return ty;
      }
      case 'Binary':
        return this.binary(e);
      case 'Unary': {
        const t = this.typeOf(e.operand);
        if (e.op === '*') {
          if (t.k !== 'ptr') this.error(e.loc, `Can not dereference type '${tyName(t)}'`);
          const to = t.to;
          return to.kind === 'void' ? u64 : ctypeToTy(to, this.opts.maxStrlen);
        }
        if (e.op === '&') this.error(e.loc, 'The address-of operator is not supported');
        if (t.k !== 'int' && t.k !== 'ptr') this.error(e.loc, `The ${e.op} operator can not be used on expressions of type '${tyName(t)}'`);
        if (e.op === '!') return u64;
        // bpftrace 0.17 negates an unsigned 64-bit value (`-true`, `-(uint64)x`) as unsigned.
        if (e.op === '-') return t.k === 'int' && t.size === 8 && !t.signed ? u64 : i64;
        return t.k === 'int' ? intTy(8, t.signed) : u64;
      }
      case 'IncDec': {
        if (e.target.kind === 'Var') {
          const t = this.vars.get(e.target.name);
          if (!t) this.error(e.target.loc, `Undefined or undeclared variable: $${e.target.name}`);
          if (!isInt(t)) this.error(e.loc, `The ${e.op} operator can not be used on expressions of type '${tyName(t)}'`);
          this.types.set(e.target, t);
          return t;
        }
        const info = this.res.maps.get(e.target.name);
        if (info && info.agg === 'none' && !isInt(info.value)) this.error(e.loc, `The ${e.op} operator can not be used on expressions of type '${tyName(info.value)}'`);
        const m = this.mapWrite(e.target, info && info.agg === 'none' ? info.value : i64, info?.agg === 'count' || info?.agg === 'sum' ? info.agg : 'none', e.loc);
        if (!isInt(this.mapReadType(m))) this.error(e.loc, `The ${e.op} operator can not be used on expressions of type '${tyName(this.mapReadType(m))}'`);
        this.types.set(e.target, this.mapReadType(m));
        return this.mapReadType(m);
      }
      case 'Ternary': {
        this.cond(e.cond, 'ternary', e.loc);
        const a = this.typeOf(e.then);
        const b = this.typeOf(e.else);
        if (a.k === 'int' && b.k === 'int') return arithResult(a, b);
        const u = this.unify(a, b);
        if (!u) this.error(e.loc, `Ternary operator must return the same type: have '${kindName(a)}' and '${kindName(b)}'`);
        return u;
      }
      case 'Tuple': {
        const elems = e.elems.map((x) => {
          const t = this.typeOf(x);
          if (t.k === 'none') this.error(x.loc, 'Tuple element has no value');
          return this.storageType(t);
        });
        return tupleTy(elems);
      }
      case 'TupleIndex': {
        const t = this.typeOf(e.expr);
        if (t.k !== 'tuple') this.error(e.loc, `Can not access index ${e.index} on expression of type '${tyName(t)}'`);
        if (e.index >= t.elems.length) this.error(e.loc, `Invalid tuple index: ${e.index}. Found ${t.elems.length} elements in tuple.`);
        return t.elems[e.index];
      }
      case 'Field':
        return this.field(e);
      case 'Index': {
        const t = this.typeOf(e.expr);
        const it = this.typeOf(e.index);
        if (!isInt(it)) this.error(e.index.loc, 'The array index operator [] only accepts integer indices');
        if (t.k === 'array') return t.elem;
        if (t.k === 'str') return intTy(1, true);
        if (t.k === 'ptr') return t.to.kind === 'void' ? intTy(1, false) : ctypeToTy(t.to, this.opts.maxStrlen);
        this.error(e.loc, `The array index operator [] can not be used on expressions of type '${tyName(t)}'`);
      }
      case 'Cast':
        return this.cast(e);
      case 'Sizeof': {
        const arg = e.arg as AST.TypeSpec | Expr;
        if (arg.kind === 'TypeSpec' && arg.pointer === 0 && !INT_TYPES[arg.name] && !this.ctypeOfSpec(arg)) this.error(e.loc, `Unknown identifier: '${arg.name}'`);
        this.consts.set(e, BigInt(arg.kind === 'TypeSpec' ? this.typeSize(arg) : this.typeOf(arg).size));
        return u64;
      }
      case 'Offsetof': {
        const ct = this.ctypeOfSpec(e.type);
        if (!ct) this.error(e.type.loc, `Unknown struct/union: '${e.type.name}'`);
        let cur: CType = ct;
        let off = 0;
        for (const f of e.field) {
          const m = cur.members?.().find((x) => x.name === f);
          if (!m) this.error(e.loc, `'${cur.name}' has no field named '${f}'`);
          off += m.offset;
          cur = m.type;
        }
        this.consts.set(e, BigInt(off));
        return u64;
      }
    }
  }

  /**
   * The value's type. When a map, tuple or field read fails it has none,
   * and bpftrace goes on to say the variable it was to define is undefined
   * and the value invalid; so do we, for a variable not defined before.
   */
  private valueOrCascade(s: AST.Assign, name: string): Ty {
    try {
      return this.typeOf(s.value);
    } catch (e) {
      const last = this.diagnostics[this.diagnostics.length - 1]?.message ?? '';
      if (e instanceof Abandon && !this.vars.has(name) && /^(Undefined map|Invalid tuple index|Can not access (index|field)|The array index operator)/.test(last)) {
        this.report(s.opLoc ?? s.loc, `Undefined variable: $${name}`);
        this.report(s.value.loc, 'Invalid expression for assignment: none');
      }
      throw e;
    }
  }

  /** bpftrace names a map read by its aggregation (`count`, `avg`) in operator errors. */
  private operandName(x: Expr, t: Ty): string {
    if (x.kind === 'Map') {
      const m = this.res.maps.get(x.name);
      if (m && m.agg !== 'none') return m.agg;
    }
    return tyName(t);
  }

  private binary(e: AST.Binary): Ty {
    const a = this.typeOf(e.left);
    const b = this.typeOf(e.right);
    const cmp = ['==', '!=', '<', '<=', '>', '>='].includes(e.op);
    if (a.k === 'str' || b.k === 'str') {
      if (a.k === 'str' && b.k === 'str' && (e.op === '==' || e.op === '!=')) return u64;
      if (e.op === '&&' || e.op === '||') this.error(e.loc, `Invalid operand for ${e.op}: string`);
      this.error(e.loc, `Type mismatch for '${e.op}': comparing '${this.operandName(e.left, a)}' with '${this.operandName(e.right, b)}'`);
    }
    if (e.op === '&&' || e.op === '||') {
      this.cond(e.left);
      this.cond(e.right);
      return u64;
    }
    const okA = a.k === 'int' || a.k === 'ptr';
    const okB = b.k === 'int' || b.k === 'ptr';
    if (!okA || !okB) {
      if (cmp && a.k === b.k && (a.k === 'buf' || a.k === 'inet' || a.k === 'macaddr')) return u64;
      this.error(e.loc, `Type mismatch for '${e.op}': comparing '${this.operandName(e.left, a)}' with '${this.operandName(e.right, b)}'`);
    }
    this.signWarnings(e.op, e.left, a, e.right, b, e.opLoc);
    if (cmp) return u64;
    if (a.k === 'ptr' && b.k === 'int' && (e.op === '+' || e.op === '-')) return a;
    return arithResult(a, b);
  }

  /**
   * bpftrace 0.17's warnings on integer operands of different signs (neither a
   * literal) and on signed division, at the operator.
   */
  private signWarnings(op: string, l: Expr, a: Ty, r: Expr, b: Ty, at: Loc): void {
    if (a.k !== 'int' || b.k !== 'int') return;
    const cmp = ['==', '!=', '<', '<=', '>', '>='].includes(op);
    const arith = ['+', '-', '*', '/', '%'].includes(op);
    // A negative literal does not count (bpftrace reads `-1` as a negation); a
    // numeric positional parameter does (it is substituted as a literal).
    const lit = (x: Expr) => (x.kind === 'Int' || x.kind === 'Positional') && (this.constValue(x) ?? -1n) >= 0n;
    // bpftrace 0.17 types its integer builtins (pid, cpu...) as 64-bit.
    const name = (x: Expr, t: Ty & { k: 'int' }) => `${t.signed ? '' : 'unsigned '}int${x.kind === 'Builtin' ? 64 : t.size * 8}`;
    if ((cmp || arith) && a.signed !== b.signed && !lit(l) && !lit(r))
      this.warn(at, `${cmp ? 'comparison' : 'arithmetic'} of integers of different signs: '${name(l, a)}' and '${name(r, b)}' can lead to undefined behavior`.replace(/^arithmetic of/, 'arithmetic on'));
    if ((op === '/' || op === '%') && ((a.signed && !lit(l)) || (b.signed && !lit(r))))
      this.warn(at, `signed operands for '${op}' can lead to undefined behavior (cast to unsigned to silence warning)`);
  }

  private field(e: AST.Field): Ty {
    // `args.x` / `args->x` on providers with a field list.
    if (e.expr.kind === 'Builtin' && e.expr.name === 'args') {
      const fields = this.target.args;
      if (!fields) this.error(e.expr.loc, this.target.argsError ?? `The args builtin can only be used with tracepoint/kfunc/uprobeprobes (${this.target.special ? 'special' : this.target.provider} used here)`);
      const f = fields.find((x) => x.name === e.field);
      if (!f && this.target.provider === 'uprobe') this.error(e.loc, `Can't find function parameter ${e.field}`);
      if (f?.error) this.error(e.loc, f.error);
      if (!f) {
        const tp = /^tracepoint:([^:]+):(.+)$/.exec(this.target.name);
        const struct = tp ? `struct _tracepoint_${tp[1]}_${tp[2]}` : `args of ${this.target.name}`;
        this.error(e.loc, `Struct/union of type '${struct}' does not contain a field named '${e.field}'`);
      }
      this.types.set(e.expr, { k: 'ctx', size: 8 });
      // Format files name the struct behind a pointer but not its layout; BTF has it.
      const to = f.ty.k === 'ptr' ? f.ty.to : undefined;
      if (to && (to.kind === 'struct' || to.kind === 'union') && to.size === 0) {
        const full = this.ctypes.lookup(to.name, f.user);
        if (full && full.size > 0) return { k: 'ptr', to: full, size: 8 };
      }
      return f.ty;
    }
    let t = this.typeOf(e.expr);
    if (e.arrow) {
      if (t.k !== 'ptr') this.error(e.loc, `Can not access field '${e.field}' on expression of type '${tyName(t)}'`);
      t = ctypeToTy(t.to, this.opts.maxStrlen);
    } else if (t.k === 'ptr' && (t.to.kind === 'struct' || t.to.kind === 'union')) {
      // bpftrace accepts `.` on pointers to structs in newer versions; follow it.
      t = ctypeToTy(t.to, this.opts.maxStrlen);
    }
    if (t.k === 'tuple' && /^\d+$/.test(e.field)) {
      const i = Number(e.field);
      if (i >= t.elems.length) this.error(e.loc, `Invalid tuple index: ${i}. Found ${t.elems.length} elements in tuple.`);
      return t.elems[i];
    }
    if (t.k === 'tuple') this.error(e.loc, 'Tuples must be indexed with a constant and non-negative integer');
    if (t.k !== 'record') this.error(e.loc, `Can not access field '${e.field}' on expression of type '${tyName(t)}'`);
    const m = t.ctype.members?.().find((x) => x.name === e.field);
    if (!m) this.error(e.loc, `Struct/union of type '${t.ctype.name}' does not contain a field named '${e.field}'`);
    if (m.bitSize) return intTy(8, m.type.signed ?? false);
    return ctypeToTy(m.type, this.opts.maxStrlen);
  }

  private cast(e: AST.Cast): Ty {
    const from = this.typeOf(e.expr);
    const spec = e.type;
    if (spec.pointer > 0) {
      if (from.k !== 'int' && from.k !== 'ptr' && from.k !== 'ctx') this.error(e.loc, `Casts are not supported for type: "${tyName(from)}"`);
      const base = this.ctypeOfSpec({ ...spec, pointer: 0 });
      if (!base) this.error(e.loc, /^(struct|union) /.test(spec.name) ? `Unknown struct/union: '${spec.name}'` : `Unknown type: '${spec.name}'`);
      let to: CType = base;
      for (let i = 1; i < spec.pointer; i++) {
        const inner = to;
        to = { name: `${inner.name} *`, kind: 'ptr', size: 8, target: () => inner };
      }
      return { k: 'ptr', to, size: 8 };
    }
    const it = INT_TYPES[spec.name];
    if (it && spec.arrayLen === null) {
      if (from.k !== 'int' && from.k !== 'ptr' && from.k !== 'ctx') this.error(e.loc, `Casts are not supported for type: "${tyName(from)}"`);
      return intTy(it[0], it[1], spec.name === 'bool' ? 'bool' : undefined);
    }
    if (it && spec.arrayLen !== null) {
      // (uint8[4])x reinterprets an integer's bytes as an array.
      return { k: 'array', elem: intTy(it[0], it[1]), len: spec.arrayLen, size: it[0] * spec.arrayLen };
    }
    const ct = this.ctypeOfSpec(spec);
    if (!ct) this.error(e.loc, /^(struct|union) /.test(spec.name) ? `Unknown struct/union: '${spec.name}'` : `Unknown type: '${spec.name}'`);
    if (ct.kind === 'struct' || ct.kind === 'union') this.error(e.loc, `Cannot cast to struct type "${ct.name}"`);
    this.error(e.loc, `Cannot cast to '${ct.name}'`);
  }

  typeSpec(spec: AST.TypeSpec): Ty {
    if (spec.name === 'string') return strTy(spec.arrayLen ?? this.opts.maxStrlen);
    const it = INT_TYPES[spec.name];
    if (it && spec.pointer === 0) {
      if (spec.arrayLen !== null) return { k: 'array', elem: intTy(it[0], it[1]), len: spec.arrayLen, size: it[0] * spec.arrayLen };
      return intTy(it[0], it[1]);
    }
    const ct = this.ctypeOfSpec({ ...spec, pointer: 0 });
    if (!ct) this.error(spec.loc, `Unknown type: '${spec.name}'`);
    if (spec.pointer > 0) return { k: 'ptr', to: ct, size: 8 };
    return ctypeToTy(ct, this.opts.maxStrlen);
  }

  typeSize(spec: AST.TypeSpec): number {
    if (spec.pointer > 0) return 8;
    const it = INT_TYPES[spec.name];
    if (it) return it[0] * (spec.arrayLen ?? 1);
    const ct = this.ctypeOfSpec(spec);
    if (!ct) this.error(spec.loc, `Unknown type: '${spec.name}'`);
    return ct.size * (spec.arrayLen ?? 1);
  }

  /** `loc` extended to the next `)` in the source (for constructs whose node stops before it). */
  private throughParen(loc: Loc): Loc {
    return this.through(loc, ')');
  }

  private through(loc: Loc, ch: string): Loc {
    const src = toBytes(this.program.source);
    const i = src.indexOf(ch, loc.end);
    if (i < 0 || src.slice(loc.end, i).includes('\n')) return loc;
    const grow = i + 1 - loc.end;
    return { ...loc, end: loc.end + grow, endCol: loc.endCol + grow };
  }

  lookupCType(name: string): CType | undefined {
    return this.ctypes.lookup(name);
  }

  ctypeOfSpec(spec: AST.TypeSpec): CType | undefined {
    const it = INT_TYPES[spec.name];
    if (it) return { name: spec.name, kind: 'int', size: it[0], signed: it[1] };
    return this.ctypes.lookup(spec.name);
  }
}

/** Folds integer constant expressions (literals, positional parameters, arithmetic on them). */
export function foldConst(e: Expr, positional: readonly string[]): bigint | undefined {
  const fold = (x: Expr) => foldConst(x, positional);
  switch (e.kind) {
    case 'Int':
      return e.value;
    case 'Bool':
      return e.value ? 1n : 0n;
    case 'Positional': {
      const s = positional[e.index - 1];
      if (s === undefined) return 0n;
      return /^-?(0x[0-9a-f]+|\d+)$/i.test(s) ? BigInt(s) : undefined;
    }
    case 'PositionalCount':
      return BigInt(positional.length);
    case 'Unary': {
      const v = fold(e.operand);
      if (v === undefined) return undefined;
      return e.op === '-' ? -v : e.op === '~' ? ~v : e.op === '!' ? (v ? 0n : 1n) : undefined;
    }
    case 'Binary': {
      const a = fold(e.left);
      const b = fold(e.right);
      if (a === undefined || b === undefined) return undefined;
      // Results wrap to 64 bits as in the kernel; this also keeps BigInt from growing without bound.
      const w = (v: bigint) => BigInt.asIntN(64, v);
      switch (e.op) {
        case '+': return w(a + b);
        case '-': return w(a - b);
        case '*': return w(a * b);
        case '/': return b === 0n ? undefined : w(a / b);
        case '%': return b === 0n ? undefined : w(a % b);
        case '<<': return b < 0n || b > 63n ? undefined : w(a << b);
        case '>>': return b < 0n || b > 63n ? undefined : w(BigInt.asUintN(64, a) >> b);
        case '&': return a & b;
        case '|': return a | b;
        case '^': return a ^ b;
        default: return undefined;
      }
    }
    default:
      return undefined;
  }
}
