// AST -> BPF for one probe and one concrete target. Types come from the type
// pass; builtins come from the registry; this file handles the language's own
// constructs (operators, variables, maps, control flow, events).
import * as A from '../bpf/asm/index.js';
import type * as AST from '../lang/ast.js';
import type { Call, Expr, Stmt } from '../lang/ast.js';
import type { ProbeTarget } from '../probes/provider.js';
import type { CompileOptions, GenCtx, Operand, Registry } from '../builtins/registry.js';
import { EVENT_HEADER, keyLayout, mapKeySize, mapParts, mapValueSize, STR_CANON, strBuckets, type EventSpec, type MapInfo, type Resources } from '../analysis/resources.js';
import { ctypeToTy, isScalar, type CType, type Ty } from '../analysis/types.js';
import { foldConst, type ProbeTypes } from '../analysis/check.js';
import { CTX, Emitter, SCRATCH, sizeName, type Mem, type VReg } from './emitter.js';
import { appendCallbacks, emitForMap, emitForRange, type Subprog } from './formap.js';

export const SCRATCH_MAP = '__scratch';
/** Ranges with constant bounds up to this many iterations are plain loops; longer ones use bpf_loop. */
const INLINE_RANGE = 256n;
/** BPF_COMPLEXITY_LIMIT_INSNS: the most instructions a (privileged) program may have. */
export const MAX_INSNS = 1_000_000;
export const RINGBUF_MAP = '__events';
/** Per-CPU count of events the ring buffer had no room for. */
export const LOST_MAP = '__lost';

export class CodegenError extends Error {
  constructor(readonly loc: AST.Loc, message: string) {
    super(message);
  }
}

export interface GeneratedProbe {
  target: ProbeTarget;
  e: Emitter;
}

export class ProbeGen implements GenCtx {
  /** The emitter being written; formap.ts swaps in a callback's own while it emits a loop body. */
  e: Emitter;
  private varHomes = new Map<string, Operand>();
  /** Where leaving the probe jumps (in a callback: the path that stops the iteration and flags the return). */
  exitLabel: string;
  /** Map-iteration callbacks, appended after the main program's exit. */
  readonly subprogs: Subprog[] = [];

  constructor(
    readonly reg: Registry,
    readonly opts: CompileOptions,
    readonly res: Resources,
    readonly target: ProbeTarget,
    private readonly pt: ProbeTypes,
    private readonly events: Map<Call, EventSpec>,
  ) {
    this.e = new Emitter(target.name);
    this.exitLabel = this.e.newLabel('exit');
  }

  typeOf(ex: Expr): Ty {
    const t = this.pt.types.get(ex);
    if (!t) throw new CodegenError(ex.loc, `internal: no type for ${ex.kind}`);
    return t;
  }

  map(name: string): MapInfo {
    return this.res.maps.get(name)!;
  }

  constValue(ex: Expr): bigint | undefined {
    return foldConst(ex, this.opts.positional);
  }

  eventFor(call: Call): EventSpec {
    const ev = this.events.get(call);
    if (!ev) throw new CodegenError(call.loc, `internal: no event for ${call.name}()`);
    return ev;
  }

  generate(probe: AST.Probe): Emitter {
    const e = this.e;
    e.emit(A.mov64Reg(CTX, A.R1));
    // Scratch area: one slot per CPU in an array map. Looked up once so
    // every aggregate is addressed as SCRATCH + constant.
    e.emit(A.call('get_smp_processor_id'));
    const key = e.stackAlloc(8);
    e.emit(A.stx('w', A.R10, key, A.R0));
    e.mapFd(A.R1, SCRATCH_MAP);
    e.emit(A.mov64Reg(A.R2, A.R10), A.alu64Imm('add', A.R2, key));
    e.call('map_lookup_elem');
    e.emit(A.jmpImm('jeq', A.R0, 0, this.exitLabel), A.mov64Reg(SCRATCH, A.R0));
    // Scalar variables are zero until assigned, as in bpftrace.
    for (const [name, ty] of this.pt.vars) {
      if (isScalar(ty)) {
        const v = e.vreg();
        e.emit(A.mov64Imm(A.R0, 0));
        e.set(v, A.R0);
        this.varHomes.set(name, { reg: v });
      } else {
        const m = e.scratch(ty.size);
        e.zero(m, ty.size);
        this.varHomes.set(name, { mem: m });
      }
    }
    if (this.opts.pid !== undefined && !this.target.special && this.target.provider !== 'interval') {
      // -p PID: every event probe fires only in that process.
      e.call('get_current_pid_tgid');
      e.emit(A.alu64Imm('rsh', A.R0, 32), A.jmpImm('jne', A.R0, this.opts.pid, this.exitLabel));
    }
    if (probe.predicate) {
      e.at(probe.predicate.loc, 'predicate', () => {
        const v = this.int(probe.predicate!);
        e.get(v, A.R0);
        e.free(v);
        e.emit(A.jmpImm('jeq', A.R0, 0, this.exitLabel));
      });
    }
    this.block(probe.body);
    e.label(this.exitLabel);
    e.emit(A.mov64Imm(A.R0, 0), A.exit());
    e.prune();
    // After pruning: callbacks are reached through ldFunc, which prune() does not follow.
    appendCallbacks(this);
    return e;
  }

  exitProbe(): void {
    this.e.emit(A.ja(this.exitLabel));
  }

  // ------------------------------------------------------------- statements

  block(b: AST.Block): void {
    for (const s of b.stmts) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const e = this.e;
    const mark = e.scratchMark();
    e.at(s.loc, s.kind, () => this.stmtInner(s));
    e.scratchRelease(mark);
  }

  private stmtInner(s: Stmt): void {
    const e = this.e;
    switch (s.kind) {
      case 'ExprStmt': {
        const op = this.exprOrNull(s.expr);
        if (op && 'reg' in op) e.free(op.reg);
        return;
      }
      case 'Assign':
        return this.assign(s);
      case 'Let': {
        if (s.value) this.assignVar(s.name, s.value, '=', s.loc);
        else this.zeroVar(s.name);
        return;
      }
      case 'If': {
        const elseL = e.newLabel('else');
        const endL = e.newLabel('endif');
        this.condJumpFalse(s.cond, elseL);
        this.block(s.then);
        if (s.else) e.emit(A.ja(endL));
        e.label(elseL);
        if (s.else) {
          if (s.else.kind === 'If') this.stmt(s.else);
          else this.block(s.else);
          e.label(endL);
        }
        return;
      }
      case 'Unroll': {
        const n = Number(this.constInt(s.count));
        for (let i = 0; i < n; i++) {
          this.block(s.body);
          // Nested unrolls multiply; stop before building what no kernel loads.
          if (e.insns.length > MAX_INSNS) throw new CodegenError(s.loc, `unroll makes the program longer than the ${MAX_INSNS} instructions the kernel accepts`);
        }
        return;
      }
      case 'While': {
        const top = e.newLabel('while');
        const end = e.newLabel('wend');
        e.label(top);
        this.condJumpFalse(s.cond, end);
        e.loops.push({ brk: end, cont: top });
        this.block(s.body);
        e.loops.pop();
        e.emit(A.ja(top));
        e.label(end);
        return;
      }
      case 'ForRange': {
        const home = this.varHomes.get(s.var)!;
        if (!isScalar(this.pt.vars.get(s.var)!)) throw new CodegenError(s.loc, 'internal: range variable not scalar');
        const endV = this.int(s.end);
        const startV = this.int(s.start);
        const lo = this.constValue(s.start);
        const hi = this.constValue(s.end);
        if (lo === undefined || hi === undefined || hi - lo > INLINE_RANGE) {
          // The verifier walks an inline loop once per iteration: past a few
          // hundred (or with bounds it cannot know) it gives up, bpf_loop does not.
          emitForRange(this, s, startV, endV);
          e.free(startV);
          e.free(endV);
          return;
        }
        e.get(startV, A.R0);
        this.varSet(home, A.R0);
        e.free(startV);
        const top = e.newLabel('for');
        const cont = e.newLabel('fnext');
        const end = e.newLabel('fend');
        e.label(top);
        this.varGet(home, A.R0);
        e.get(endV, A.R1);
        e.emit(A.jmpReg('jsge', A.R0, A.R1, end));
        e.loops.push({ brk: end, cont });
        this.block(s.body);
        e.loops.pop();
        e.label(cont);
        this.varGet(home, A.R0);
        e.emit(A.alu64Imm('add', A.R0, 1));
        this.varSet(home, A.R0);
        e.emit(A.ja(top));
        e.label(end);
        e.free(endV);
        return;
      }
      case 'ForMap':
        emitForMap(this, s);
        return;
      case 'Break':
        e.emit(A.ja(e.loops[e.loops.length - 1].brk));
        return;
      case 'Continue':
        e.emit(A.ja(e.loops[e.loops.length - 1].cont));
        return;
      case 'Return':
        this.exitProbe();
        return;
      case 'Block':
        this.block(s);
        return;
    }
  }

  private constInt(ex: Expr): bigint {
    if (ex.kind === 'Int') return ex.value;
    if (ex.kind === 'Positional') return BigInt(this.opts.positional[ex.index - 1] ?? 0);
    throw new CodegenError(ex.loc, 'expected an integer literal');
  }

  /** Jumps to `label` when the condition is false, short-circuiting && and ||. */
  private condJumpFalse(c: Expr, label: string): void {
    const e = this.e;
    if (c.kind === 'Binary' && c.op === '&&') {
      this.condJumpFalse(c.left, label);
      this.condJumpFalse(c.right, label);
      return;
    }
    if (c.kind === 'Unary' && c.op === '!') {
      const t = e.newLabel('not');
      this.condJumpFalse(c.operand, t);
      e.emit(A.ja(label));
      e.label(t);
      return;
    }
    const v = this.int(c);
    e.get(v, A.R0);
    e.free(v);
    e.emit(A.jmpImm('jeq', A.R0, 0, label));
  }

  private assign(s: AST.Assign): void {
    if (s.target.kind === 'Var') return this.assignVar(s.target.name, s.value, s.op, s.loc);
    const target = s.target;
    const e = this.e;
    const info = this.map(target.name);
    if (s.op === '=' && s.value.kind === 'Call' && this.reg.fn(s.value.name)?.aggregation) {
      // Aggregations write their own map.
      this.exprOrNull(s.value);
      return;
    }
    if (s.op !== '=') {
      const binop = s.op.slice(0, -1) as AST.BinaryOp;
      const key = this.mapKey(target, info);
      const v = this.int(s.value);
      const ptr = this.mapPtrOrInit(info, key);
      e.get(ptr, A.R1);
      e.emit(A.ldx('dw', A.R0, A.R1, 0));
      e.get(v, A.R2);
      this.aluOp(binop, A.R0, A.R2, info.value.k === 'int' && info.value.signed);
      e.get(ptr, A.R1);
      e.emit(A.stx('dw', A.R1, 0, A.R0));
      e.free(v);
      e.free(ptr);
      return;
    }
    const valTy = info.value;
    const src = this.expr(s.value);
    const key = this.mapKey(target, info);
    const vsize = mapValueSize(info);
    const buf = e.scratch(vsize);
    this.storeValue(buf, src, this.typeOf(s.value), vsize, valTy);
    if ('reg' in src) e.free(src.reg);
    this.mapUpdate(info, key, buf);
  }

  private assignVar(name: string, value: Expr, op: AST.AssignOp, loc: AST.Loc): void {
    const e = this.e;
    const home = this.varHomes.get(name);
    if (!home) throw new CodegenError(loc, `internal: no home for $${name}`);
    const ty = this.pt.vars.get(name);
    // Only a for-map loop's element has a home but no probe-wide type.
    if (!ty) throw new CodegenError(loc, `$${name} is the element of a for loop over a map and cannot be assigned`);
    if (op !== '=') {
      if (!isScalar(ty)) throw new CodegenError(loc, 'compound assignment on a non-integer variable');
      const v = this.int(value);
      this.varGet(home, A.R0);
      e.get(v, A.R1);
      this.aluOp(op.slice(0, -1) as AST.BinaryOp, A.R0, A.R1, ty.k === 'int' && ty.signed);
      this.varSet(home, A.R0);
      e.free(v);
      return;
    }
    const src = this.expr(value);
    if (isScalar(ty)) {
      if (!('reg' in src)) throw new CodegenError(loc, 'internal: scalar variable from memory');
      e.get(src.reg, A.R0);
      this.varSet(home, A.R0);
      e.free(src.reg);
    } else if ('mem' in home) {
      this.storeValue(home.mem, src, this.typeOf(value), ty.size, ty);
    }
  }

  /** `let $x;`: the variable starts at zero each time the declaration runs (a loop body's, too). */
  private zeroVar(name: string): void {
    const home = this.varHomes.get(name);
    const ty = this.pt.vars.get(name);
    if (!home || !ty) return;
    if (isScalar(ty)) {
      this.e.emit(A.mov64Imm(A.R0, 0));
      this.varSet(home, A.R0);
    } else if ('mem' in home) this.e.zero(home.mem, ty.size);
  }

  /** Scalar variables live in a vreg, or in memory when given a memory home. */
  private varGet(home: Operand, r: number): void {
    if ('reg' in home) this.e.get(home.reg, r);
    else this.e.load('dw', r, home.mem);
  }
  private varSet(home: Operand, r: number): void {
    if ('reg' in home) this.e.set(home.reg, r);
    else this.e.store('dw', home.mem, 0, r);
  }

  varInfo(name: string): { home: Operand; ty: Ty } | undefined {
    const home = this.varHomes.get(name);
    const ty = this.pt.vars.get(name);
    return home && ty ? { home, ty } : undefined;
  }

  /** Rehomes a variable (formap.ts: a callback's own copy while its body is emitted). */
  setVarHome(name: string, home: Operand): void {
    this.varHomes.set(name, home);
  }

  // ------------------------------------------------------------ expressions

  expr(ex: Expr): Operand {
    const op = this.exprOrNull(ex);
    if (!op) throw new CodegenError(ex.loc, `${ex.kind === 'Call' ? ex.name + '()' : ex.kind} has no value`);
    return op;
  }

  int(ex: Expr): VReg {
    const op = this.expr(ex);
    if ('reg' in op) return op.reg;
    // Aggregates used as integers (a one-element tuple, a ctx): read the first 8 bytes.
    const v = this.e.vreg();
    this.e.load('dw', A.R0, op.mem);
    this.e.set(v, A.R0);
    return v;
  }

  mem(ex: Expr): Mem {
    const op = this.expr(ex);
    if ('mem' in op) return op.mem;
    const m = this.e.scratch(8);
    this.e.get(op.reg, A.R0);
    this.e.store('dw', m, 0, A.R0);
    this.e.free(op.reg);
    return m;
  }

  private exprOrNull(ex: Expr): Operand | null {
    const e = this.e;
    switch (ex.kind) {
      case 'Int':
      case 'Bool':
        return { reg: e.constant(ex.kind === 'Int' ? ex.value : ex.value ? 1n : 0n) };
      case 'Str':
        return { mem: this.literal(ex.value, this.typeOf(ex).size) };
      case 'Positional': {
        const t = this.typeOf(ex);
        const s = this.opts.positional[ex.index - 1] ?? '';
        if (t.k === 'str') return { mem: this.literal(s, t.size) };
        return { reg: e.constant(s === '' ? 0n : BigInt(s)) };
      }
      case 'PositionalCount':
        return { reg: e.constant(this.opts.positional.length) };
      case 'Var': {
        const home = this.varHomes.get(ex.name)!;
        // The expression's own type: a for-map loop's $kv shadows any other $kv.
        if (isScalar(this.typeOf(ex))) {
          const v = e.vreg();
          this.varGet(home, A.R0);
          e.set(v, A.R0);
          return { reg: v };
        }
        return home;
      }
      case 'Map':
        return this.mapRead(ex);
      case 'Builtin': {
        const b = this.reg.variable(ex.name)!;
        return e.at(ex.loc, ex.name, () => b.emit(ex, this));
      }
      case 'Call': {
        const fn = this.reg.fn(ex.name)!;
        return e.at(ex.loc, `${ex.name}()`, () => fn.emit(ex, this));
      }
      case 'Binary':
        return { reg: this.binary(ex) };
      case 'Unary':
        return this.unary(ex);
      case 'IncDec':
        return { reg: this.incDec(ex) };
      case 'Ternary': {
        const t = this.typeOf(ex);
        const elseL = e.newLabel('tern');
        const endL = e.newLabel('tend');
        if (isScalar(t)) {
          const out = e.vreg();
          this.condJumpFalse(ex.cond, elseL);
          const a = this.int(ex.then);
          e.get(a, A.R0);
          e.set(out, A.R0);
          e.free(a);
          e.emit(A.ja(endL));
          e.label(elseL);
          const b = this.int(ex.else);
          e.get(b, A.R0);
          e.set(out, A.R0);
          e.free(b);
          e.label(endL);
          return { reg: out };
        }
        const out = e.scratch(t.size);
        this.condJumpFalse(ex.cond, elseL);
        this.storeValue(out, this.expr(ex.then), this.typeOf(ex.then), t.size, t);
        e.emit(A.ja(endL));
        e.label(elseL);
        this.storeValue(out, this.expr(ex.else), this.typeOf(ex.else), t.size, t);
        e.label(endL);
        return { mem: out };
      }
      case 'Tuple': {
        const t = this.typeOf(ex);
        if (t.k !== 'tuple') throw new CodegenError(ex.loc, 'internal: tuple type');
        const out = e.scratch(t.size);
        e.zero(out, t.size);
        ex.elems.forEach((el, i) => {
          const src = this.expr(el);
          this.storeValue(e.offset(out, t.offsets[i]), src, this.typeOf(el), t.elems[i].size, t.elems[i]);
          if ('reg' in src) e.free(src.reg);
        });
        return { mem: out };
      }
      case 'TupleIndex': {
        const t = this.typeOf(ex.expr);
        if (t.k !== 'tuple') throw new CodegenError(ex.loc, 'internal: tuple index');
        const m = this.mem(ex.expr);
        return this.fromMem(e.offset(m, t.offsets[ex.index]), t.elems[ex.index]);
      }
      case 'Field':
        return this.field(ex);
      case 'Index':
        return this.index(ex);
      case 'Cast':
        return this.cast(ex);
      case 'Sizeof':
      case 'Offsetof':
        return { reg: e.constant(this.pt.consts.get(ex) ?? 0n) };
    }
  }

  /** Reads a value of type `t` stored at `m` into an operand (loads scalars, leaves aggregates in place). */
  fromMem(m: Mem, t: Ty): Operand {
    if (isScalar(t)) {
      const v = this.e.vreg();
      const size = t.k === 'int' ? t.size : 8;
      this.e.load(sizeName(size), A.R0, m, 0, t.k === 'int' && t.signed);
      this.e.set(v, A.R0);
      return { reg: v };
    }
    return { mem: m };
  }

  private literal(s: string, size: number): Mem {
    const bytes = Buffer.alloc(Math.max(size, 1));
    Buffer.from(s).copy(bytes, 0, 0, Math.max(0, bytes.length - 1));
    const m = this.e.scratch(bytes.length);
    let i = 0;
    for (; i + 8 <= bytes.length; i += 8) {
      const v = bytes.readBigUInt64LE(i);
      if (v === 0n) this.e.storeImm('dw', m, i, 0);
      else {
        this.e.emit(A.ldImm64(A.R0, v));
        this.e.store('dw', m, i, A.R0);
      }
    }
    for (; i < bytes.length; i++) this.e.storeImm('b', m, i, bytes[i]);
    return m;
  }

  /**
   * Writes `src` (of type `from`) into `dst` as type `to` occupying `size`
   * bytes: integers are stored at their slot width, aggregates copied and
   * zero-padded so map keys compare equal byte for byte.
   */
  storeValue(dst: Mem, src: Operand, from: Ty, size: number, to?: Ty): void {
    const e = this.e;
    if ('reg' in src) {
      e.get(src.reg, A.R0);
      const w = to && to.k === 'int' ? to.size : Math.min(size, 8);
      e.store(sizeName(w >= 8 ? 8 : w), dst, 0, A.R0);
      for (let i = Math.min(w, 8); i < size; i++) e.storeImm('b', dst, i, 0);
      return;
    }
    const n = Math.min(from.size, size);
    e.copy(dst, src.mem, n);
    if (n < size) e.zero(e.offset(dst, n), size - n);
  }

  private aluOp(op: AST.BinaryOp, dst: number, src: number, signed: boolean): void {
    const e = this.e;
    const map: Partial<Record<AST.BinaryOp, A.AluOp>> = {
      '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh',
      // bpftrace shifts right logically whatever the sign.
      '>>': 'rsh',
    };
    const a = map[op];
    if (!a) throw new Error(`internal: alu ${op}`);
    e.emit(A.alu64Reg(a, dst, src));
  }

  private binary(ex: AST.Binary): VReg {
    const e = this.e;
    const lt = this.typeOf(ex.left);
    const rt = this.typeOf(ex.right);
    if (ex.op === '&&' || ex.op === '||') {
      const out = e.vreg();
      const done = e.newLabel('sc');
      const l = this.int(ex.left);
      e.get(l, A.R0);
      e.free(l);
      e.emit(A.mov64Imm(A.R1, ex.op === '&&' ? 0 : 1));
      e.set(out, A.R1);
      e.emit(A.jmpImm(ex.op === '&&' ? 'jeq' : 'jne', A.R0, 0, done));
      const r = this.int(ex.right);
      e.get(r, A.R0);
      e.free(r);
      e.emit(A.mov64Imm(A.R1, 1), A.jmpImm('jne', A.R0, 0, `${done}_t`), A.mov64Imm(A.R1, 0), A.label(`${done}_t`));
      e.set(out, A.R1);
      e.label(done);
      return out;
    }
    if (lt.k === 'str' && rt.k === 'str') return this.strCompare(ex);
    if ((lt.k === 'buf' || lt.k === 'inet' || lt.k === 'macaddr') && lt.k === rt.k) return this.memCompare(ex, lt.size);
    const l = this.int(ex.left);
    const r = this.int(ex.right);
    // bpftrace compares signed only when both sides are signed.
    const signed = lt.k === 'int' && lt.signed && rt.k === 'int' && rt.signed;
    e.get(l, A.R0);
    e.get(r, A.R1);
    e.free(r);
    const cmp: Partial<Record<AST.BinaryOp, A.JmpOp>> = {
      '==': 'jeq', '!=': 'jne', '<': signed ? 'jslt' : 'jlt', '<=': signed ? 'jsle' : 'jle',
      '>': signed ? 'jsgt' : 'jgt', '>=': signed ? 'jsge' : 'jge',
    };
    const j = cmp[ex.op];
    if (j) {
      const t = e.newLabel('cmp');
      e.emit(A.mov64Imm(A.R2, 1), A.jmpReg(j, A.R0, A.R1, t), A.mov64Imm(A.R2, 0), A.label(t));
      e.set(l, A.R2);
      return l;
    }
    if (lt.k === 'ptr' && (ex.op === '+' || ex.op === '-')) {
      // Pointer arithmetic scales by the pointee size, as in C.
      const sz = lt.to.size || 1;
      if (sz > 1) e.emit(A.alu64Imm('mul', A.R1, sz));
    }
    this.aluOp(ex.op, A.R0, A.R1, signed);
    e.set(l, A.R0);
    return l;
  }

  /** String equality: byte loop up to the first NUL or the shorter size (unrolled for literals). */
  private strCompare(ex: AST.Binary): VReg {
    const e = this.e;
    const lt = this.typeOf(ex.left);
    const rt = this.typeOf(ex.right);
    const a = this.mem(ex.left);
    const b = this.mem(ex.right);
    const out = e.vreg();
    const ne = e.newLabel('sne');
    const eq = e.newLabel('seq');
    const done = e.newLabel('sdone');
    const lit = ex.right.kind === 'Str' ? ex.right.value : ex.left.kind === 'Str' ? ex.left.value : null;
    if (lit !== null) {
      const other = ex.right.kind === 'Str' ? a : b;
      const otherSize = ex.right.kind === 'Str' ? lt.size : rt.size;
      const bytes = Buffer.from(lit);
      // The literal matches when all its bytes match and the other string ends right after it.
      if (bytes.length > otherSize) {
        e.emit(A.ja(ne));
      } else {
        for (let i = 0; i < bytes.length; i++) {
          e.load('b', A.R0, other, i);
          e.emit(A.jmpImm('jne', A.R0, bytes[i], ne));
        }
        if (bytes.length < otherSize) {
          e.load('b', A.R0, other, bytes.length);
          e.emit(A.jmpImm('jne', A.R0, 0, ne));
        }
      }
    } else {
      const n = Math.min(lt.size, rt.size);
      for (let i = 0; i < n; i++) {
        e.load('b', A.R0, a, i);
        e.load('b', A.R1, b, i);
        e.emit(A.jmpReg('jne', A.R0, A.R1, ne), A.jmpImm('jeq', A.R0, 0, eq));
      }
      if (lt.size !== rt.size) {
        // Equal over the shorter one: the longer must end there.
        const longer = lt.size > rt.size ? a : b;
        e.load('b', A.R0, longer, n);
        e.emit(A.jmpImm('jne', A.R0, 0, ne));
      }
    }
    e.label(eq);
    e.emit(A.mov64Imm(A.R0, ex.op === '==' ? 1 : 0), A.ja(done));
    e.label(ne);
    e.emit(A.mov64Imm(A.R0, ex.op === '==' ? 0 : 1));
    e.label(done);
    e.set(out, A.R0);
    return out;
  }

  private memCompare(ex: AST.Binary, size: number): VReg {
    const e = this.e;
    const a = this.mem(ex.left);
    const b = this.mem(ex.right);
    const out = e.vreg();
    const ne = e.newLabel('mne');
    const done = e.newLabel('mdone');
    for (let i = 0; i < size; i++) {
      e.load('b', A.R0, a, i);
      e.load('b', A.R1, b, i);
      e.emit(A.jmpReg('jne', A.R0, A.R1, ne));
    }
    e.emit(A.mov64Imm(A.R0, ex.op === '==' ? 1 : 0), A.ja(done));
    e.label(ne);
    e.emit(A.mov64Imm(A.R0, ex.op === '==' ? 0 : 1));
    e.label(done);
    e.set(out, A.R0);
    return out;
  }

  private unary(ex: AST.Unary): Operand {
    const e = this.e;
    if (ex.op === '*') {
      const t = this.typeOf(ex);
      const p = this.int(ex.operand);
      const pt = this.typeOf(ex.operand);
      const user = pt.k === 'ptr' && !!pt.to.user;
      return this.deref(p, 0, t, user);
    }
    const v = this.int(ex.operand);
    e.get(v, A.R0);
    if (ex.op === '-') e.emit(A.neg64(A.R0));
    else if (ex.op === '~') e.emit(A.alu64Imm('xor', A.R0, -1));
    else {
      const t = e.newLabel('not');
      e.emit(A.mov64Imm(A.R1, 1), A.jmpImm('jeq', A.R0, 0, t), A.mov64Imm(A.R1, 0), A.label(t), A.mov64Reg(A.R0, A.R1));
    }
    e.set(v, A.R0);
    return { reg: v };
  }

  /** Reads a value of type `t` at pointer `p` + off from kernel/user memory. Frees p. */
  deref(p: VReg, off: number, t: Ty, user: boolean): Operand {
    const e = this.e;
    const size = t.k === 'int' ? t.size : t.size || 8;
    const m = e.scratch(Math.max(8, size));
    e.get(p, A.R3);
    if (off) e.emit(A.alu64Imm('add', A.R3, off));
    e.free(p);
    this.probeRead(m, size, A.R3, user);
    return this.fromMem(m, t);
  }

  probeRead(dst: Mem, size: number, srcReg: number, user: boolean, str = false): void {
    const e = this.e;
    if (srcReg !== A.R3) e.emit(A.mov64Reg(A.R3, srcReg));
    e.addr(dst, A.R1);
    e.emit(A.mov64Imm(A.R2, size));
    // The combined helpers pick user or kernel by address on x86, which is what
    // probes with unknown pointer provenance (tracepoint char * args) need.
    const helper = str ? (user ? 'probe_read_user_str' : 'probe_read_str') : user ? 'probe_read_user' : 'probe_read';
    e.call(helper);
    this.checkHelper(helper, 2);
  }

  private incDec(ex: AST.IncDec): VReg {
    const e = this.e;
    const out = e.vreg();
    const delta = ex.op === '++' ? 1 : -1;
    if (ex.target.kind === 'Var') {
      const home = this.varHomes.get(ex.target.name)!;
      if (!isScalar(this.pt.vars.get(ex.target.name)!)) throw new CodegenError(ex.loc, 'internal: ++ on aggregate');
      this.varGet(home, A.R0);
      if (!ex.prefix) e.set(out, A.R0);
      e.emit(A.alu64Imm('add', A.R0, delta));
      this.varSet(home, A.R0);
      if (ex.prefix) e.set(out, A.R0);
      return out;
    }
    const info = this.map(ex.target.name);
    const key = this.mapKey(ex.target, info);
    const ptr = this.mapPtrOrInit(info, key);
    e.get(ptr, A.R1);
    e.emit(A.ldx('dw', A.R0, A.R1, 0));
    if (!ex.prefix) e.set(out, A.R0);
    e.emit(A.alu64Imm('add', A.R0, delta), A.stx('dw', A.R1, 0, A.R0));
    if (ex.prefix) e.set(out, A.R0);
    e.free(ptr);
    return out;
  }

  private field(ex: AST.Field): Operand {
    const e = this.e;
    if (ex.expr.kind === 'Builtin' && ex.expr.name === 'args') {
      const f = this.target.args!.find((x) => x.name === ex.field)!;
      return this.ctxRead(f.read, f.ty);
    }
    const base = this.typeOf(ex.expr);
    if (base.k === 'tuple') {
      const i = Number(ex.field);
      const m = this.mem(ex.expr);
      return this.fromMem(e.offset(m, base.offsets[i]), base.elems[i]);
    }
    const t = this.typeOf(ex);
    const ctype: CType = base.k === 'ptr' ? base.to : (base as { ctype: CType }).ctype;
    const mem = ctype.members!().find((x) => x.name === ex.field)!;
    if (base.k === 'ptr') {
      const p = this.int(ex.expr);
      const op = this.deref(p, mem.offset, t, !!ctype.user);
      return mem.bitSize ? this.bitfield(op, mem.bitOffset ?? 0, mem.bitSize) : op;
    }
    const m = this.mem(ex.expr);
    const op = this.fromMem(e.offset(m, mem.offset), t);
    return mem.bitSize ? this.bitfield(op, mem.bitOffset ?? 0, mem.bitSize) : op;
  }

  private bitfield(op: Operand, bitOff: number, bits: number): Operand {
    if (!('reg' in op)) return op;
    const e = this.e;
    e.get(op.reg, A.R0);
    if (bitOff) e.emit(A.alu64Imm('rsh', A.R0, bitOff));
    if (bits < 32) e.emit(A.alu64Imm('and', A.R0, (1 << bits) - 1));
    else if (bits < 64) {
      e.emit(A.ldImm64(A.R1, (1n << BigInt(bits)) - 1n), A.alu64Reg('and', A.R0, A.R1));
    }
    e.set(op.reg, A.R0);
    return op;
  }

  argRead(r: import('../probes/provider.js').ArgRead): Operand {
    const e = this.e;
    if (r.kind === 'const') return { reg: e.constant(r.value) };
    if (r.kind !== 'mem') return this.ctxReadInt(r);
    // A memory operand (USDT `8@-16(%rbp)`): address from registers in pt_regs, then a probe read.
    e.emit(A.ldImm64(A.R3, BigInt.asIntN(64, r.disp)));
    for (const t of r.terms) {
      e.emit(A.ldx('dw', A.R1, CTX, t.off));
      if (t.scale > 1) e.emit(A.alu64Imm('lsh', A.R1, Math.log2(t.scale)));
      e.emit(A.alu64Reg('add', A.R3, A.R1));
    }
    const m = e.scratch(8);
    e.storeImm('dw', m, 0, 0);
    e.addr(m, A.R1);
    e.emit(A.mov64Imm(A.R2, r.size));
    e.call(r.user ? 'probe_read_user' : 'probe_read_kernel');
    const v = e.vreg();
    e.load(sizeName(r.size), A.R0, m, 0, r.signed);
    e.set(v, A.R0);
    return { reg: v };
  }

  ctxReadInt(r: import('../probes/provider.js').CtxRead): Operand {
    return this.ctxRead(r, { k: 'int', size: 8, signed: r.kind === 'ctx' && r.signed });
  }

  /** Reads a context field (tracepoint field, pt_regs slot, raw tracepoint arg). */
  ctxRead(r: import('../probes/provider.js').CtxRead, t: Ty): Operand {
    const e = this.e;
    if (r.kind === 'dataloc') {
      // __data_loc: u32 holding (len << 16 | offset); the bytes live in the record.
      const size = t.size;
      const m = e.scratch(size);
      e.emit(A.ldx('w', A.R3, CTX, r.off), A.alu64Imm('and', A.R3, 0xffff), A.alu64Reg('add', A.R3, CTX));
      this.probeRead(m, size, A.R3, false, true);
      return { mem: m };
    }
    if (isScalar(t) || t.k === 'int') {
      const v = e.vreg();
      e.emit(A.ldx(sizeName(r.size), A.R0, CTX, r.off));
      if (r.signed && r.size < 8) e.signExtend(A.R0, sizeName(r.size));
      e.set(v, A.R0);
      return { reg: v };
    }
    // Arrays and strings embedded in the record: copy them out of ctx.
    const m = e.scratch(t.size);
    e.emit(A.mov64Reg(A.R3, CTX), A.alu64Imm('add', A.R3, r.off));
    this.probeRead(m, t.size, A.R3, false);
    return { mem: m };
  }

  private index(ex: AST.Index): Operand {
    const e = this.e;
    const bt = this.typeOf(ex.expr);
    const t = this.typeOf(ex);
    const esize = bt.k === 'array' ? bt.elem.size : bt.k === 'str' ? 1 : bt.k === 'ptr' ? bt.to.size || 1 : 1;
    if (bt.k === 'ptr') {
      const p = this.int(ex.expr);
      const i = this.int(ex.index);
      e.get(p, A.R0);
      e.get(i, A.R1);
      e.free(i);
      if (esize > 1) e.emit(A.alu64Imm('mul', A.R1, esize));
      e.emit(A.alu64Reg('add', A.R0, A.R1));
      e.set(p, A.R0);
      return this.deref(p, 0, t, !!bt.to.user);
    }
    const m = this.mem(ex.expr);
    const len = bt.k === 'array' ? bt.len : bt.size;
    const ci = ex.index.kind === 'Int' ? Number(ex.index.value) : null;
    if (ci !== null) {
      if (ci < 0 || ci >= len) throw new CodegenError(ex.loc, `the index ${ci} is out of bounds for array of size ${len}`);
      return this.fromMem(e.offset(m, ci * esize), t);
    }
    // Variable index: bound it so the verifier accepts the access.
    const i = this.int(ex.index);
    const out = e.vreg();
    const oob = e.newLabel('oob');
    const done = e.newLabel('idx');
    e.get(i, A.R1);
    e.free(i);
    e.emit(A.jmpImm('jge', A.R1, len, oob));
    if (esize > 1) e.emit(A.alu64Imm('mul', A.R1, esize));
    e.addr(m, A.R2);
    e.emit(A.alu64Reg('add', A.R2, A.R1));
    const sz = t.k === 'int' ? t.size : 8;
    e.emit(A.ldx(sizeName(sz), A.R0, A.R2, 0));
    if (t.k === 'int' && t.signed && sz < 8) e.signExtend(A.R0, sizeName(sz));
    e.emit(A.ja(done));
    e.label(oob);
    e.emit(A.mov64Imm(A.R0, 0));
    e.label(done);
    e.set(out, A.R0);
    return { reg: out };
  }

  private cast(ex: AST.Cast): Operand {
    const e = this.e;
    const t = this.typeOf(ex);
    const src = this.expr(ex.expr);
    if (t.k === 'array') {
      const m = e.scratch(Math.max(8, t.size));
      this.storeValue(m, src, this.typeOf(ex.expr), t.size);
      return { mem: m };
    }
    if (!('reg' in src)) {
      // ctx or records used as integers: their address.
      const v = e.vreg();
      e.addr(src.mem, A.R0);
      e.set(v, A.R0);
      return { reg: v };
    }
    if (t.k === 'int' && t.size < 8) {
      e.get(src.reg, A.R0);
      if (t.signed) e.emit(A.alu64Imm('lsh', A.R0, 64 - t.size * 8), A.alu64Imm('arsh', A.R0, 64 - t.size * 8));
      else if (t.size === 4) e.emit(A.mov32Reg(A.R0, A.R0));
      else e.emit(A.alu64Imm('and', A.R0, t.size === 1 ? 0xff : 0xffff));
      e.set(src.reg, A.R0);
    }
    return src;
  }

  // ------------------------------------------------------------------ maps

  /** Builds the BPF key for `@m[k...]` in scratch; `extra` appends a bucket index (hist/lhist). */
  mapKey(m: AST.MapRef, info: MapInfo, extra?: VReg): Mem {
    const e = this.e;
    const sb = strBuckets(info);
    const size = sb ? sb.strOff + sb.size : mapKeySize(info);
    const only = !extra && m.keys?.length === 1 ? m.keys[0] : undefined;
    if (only?.kind === 'Call' && only.name === 'str' && this.typeOf(only).size === size) {
      // str() yields a fresh buffer of exactly the key's size, zero after the
      // NUL to byte 64 or to its end (strBuckets): used in place, it saves
      // zeroing and copying up to max_strlen bytes.
      const src = this.expr(only);
      if ('mem' in src) {
        if (!sb) this.canonicalStr(src.mem, size);
        return src.mem;
      }
      e.free(src.reg);
    }
    const key = e.scratch(size);
    if (!info.keys || !m.keys) {
      e.storeImm('dw', key, 0, 0);
    } else {
      const layout = keyLayout(info);
      const base = sb?.base ?? 0;
      // A bucketed string is copied by copyStr, which leaves its tail as the bucket needs it.
      e.zero(key, sb ? sb.strOff : layout.size);
      m.keys.forEach((k, i) => {
        const src = this.expr(k);
        const at = e.offset(key, base + layout.offsets[i]);
        const to = layout.elems[i];
        const from = this.typeOf(k);
        if (to.k === 'str' && to.size > STR_CANON && 'mem' in src) {
          if (sb && i === layout.elems.length - 1) this.copyStr(at, src.mem, Math.min(from.size, to.size), to.size);
          else {
            this.storeValue(at, src, from, to.size, to);
            this.canonicalStr(at, to.size);
          }
        } else this.storeValue(at, src, from, to.size, to);
        if ('reg' in src) e.free(src.reg);
      });
    }
    if (extra) {
      e.get(extra, A.R0);
      e.store('dw', key, sb ? 0 : size - 8, A.R0);
    }
    return key;
  }

  /**
   * Makes a string buffer zero from its NUL to its end. Strings are only kept
   * zero to their 64th byte when shorter (see strBuckets); a key the kernel
   * hashes whole needs the rest zero too.
   */
  private canonicalStr(m: Mem, size: number): void {
    if (size <= STR_CANON) return;
    const e = this.e;
    const done = e.newLabel('canon');
    e.load('b', A.R0, m, STR_CANON - 1);
    e.emit(A.jmpImm('jne', A.R0, 0, done));
    e.zero(e.offset(m, STR_CANON), size - STR_CANON);
    e.label(done);
  }

  /** Copies a string of `n` bytes into a `size`-byte key slot, zero from its NUL to the end of its bucket. */
  private copyStr(dst: Mem, src: Mem, n: number, size: number): void {
    const e = this.e;
    const head = Math.min(n, STR_CANON);
    e.copy(dst, src, head);
    if (head < STR_CANON) e.zero(e.offset(dst, head), Math.min(size, STR_CANON) - head);
    // A string that fits in STR_CANON bytes lands in a bucket no longer than that.
    if (n <= STR_CANON) return;
    const short = e.newLabel('cshort');
    e.load('b', A.R0, dst, STR_CANON - 1);
    e.emit(A.jmpImm('jeq', A.R0, 0, short));
    e.copy(e.offset(dst, STR_CANON), e.offset(src, STR_CANON), n - STR_CANON);
    if (n < size) e.zero(e.offset(dst, n), size - n);
    e.label(short);
  }

  /**
   * Calls a map helper on `key` (r1 = map, r2 = key; `args` sets the rest).
   * A bucketed map (strBuckets) picks its part by the string's length: the
   * first bucket whose last byte is 0 holds it. Each part gets a call of its
   * own: the verifier inlines a map helper only where one map reaches the
   * call, and the indirect call it falls back to costs far more.
   */
  private mapCall(info: MapInfo, key: Mem, helper: string, args?: () => void): void {
    const e = this.e;
    const sb = strBuckets(info);
    if (!sb) {
      e.mapFd(A.R1, info.name);
      e.addr(key, A.R2);
      args?.();
      e.call(helper);
      return;
    }
    const parts = mapParts(info);
    const done = e.newLabel('part');
    e.addr(key, A.R2);
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const next = e.newLabel('partn');
      if (!last) e.emit(A.ldx('b', A.R1, A.R2, sb.strOff + part.strSize! - 1), A.jmpImm('jne', A.R1, 0, next));
      e.mapFd(A.R1, part.name);
      args?.();
      e.call(helper);
      if (!last) {
        e.emit(A.ja(done));
        e.label(next);
      }
    });
    e.label(done);
  }

  mapLookup(info: MapInfo, key: Mem): VReg {
    const e = this.e;
    this.mapCall(info, key, 'map_lookup_elem');
    const v = e.vreg();
    e.set(v, A.R0);
    return v;
  }

  /** Pointer to the element, inserting a zeroed one first when absent; leaves the probe if that fails. */
  mapPtrOrInit(info: MapInfo, key: Mem): VReg {
    const e = this.e;
    const got = e.newLabel('have');
    const v = this.mapLookup(info, key);
    e.get(v, A.R0);
    e.emit(A.jmpImm('jne', A.R0, 0, got));
    const zero = e.scratch(mapValueSize(info));
    e.zero(zero, mapValueSize(info));
    // BPF_NOEXIST: another CPU inserting the same key first must not be overwritten.
    this.mapCall(info, key, 'map_update_elem', () => {
      e.addr(zero, A.R3);
      e.emit(A.mov64Imm(A.R4, 1));
    });
    this.mapCall(info, key, 'map_lookup_elem');
    e.emit(A.jmpImm('jeq', A.R0, 0, this.exitLabel));
    e.set(v, A.R0);
    e.label(got);
    return v;
  }

  mapUpdate(info: MapInfo, key: Mem, value: Mem): void {
    const e = this.e;
    this.mapCall(info, key, 'map_update_elem', () => {
      e.addr(value, A.R3);
      e.emit(A.mov64Imm(A.R4, 0));
    });
    this.checkHelper('map_update_elem', 1);
  }

  /**
   * -k / -kk: report a helper's failure at run time (bpftrace's helper error
   * warnings). `level` is the -k count at which this helper is checked.
   */
  checkHelper(helper: string, level: number): void {
    const want = this.opts.helperErrors ?? 0;
    if (want < level) return;
    const e = this.e;
    const origin = e.currentOrigin();
    if (!origin) return;
    const ok = e.newLabel('hok');
    e.emit(A.jmpImm('jsge', A.R0, 0, ok));
    const key = `${helper}@${origin.start}:${origin.end}`;
    let spec = this.res.events.find((x) => x.kind === 'helper_error' && x.fmt === key);
    spec ??= this.res.addEvent('helper_error', [{ k: 'int', size: 8, signed: true }], origin, { fmt: key });
    const saved = e.newLabel('hsv');
    void saved;
    const rc = e.vreg();
    e.set(rc, A.R0);
    this.sendEvent(spec, (p) => {
      e.get(rc, A.R0);
      e.store('dw', p, 0, A.R0);
    });
    e.free(rc);
    e.label(ok);
  }

  mapDelete(info: MapInfo, key: Mem): void {
    const e = this.e;
    this.mapCall(info, key, 'map_delete_elem');
    this.checkHelper('map_delete_elem', 1);
  }

  private mapRead(ex: AST.MapRef): Operand {
    const e = this.e;
    const info = this.map(ex.name);
    const t = this.typeOf(ex);
    const key = this.mapKey(ex, info);
    const p = this.mapLookup(info, key);
    const missing = e.newLabel('nomap');
    const done = e.newLabel('mapv');
    if (isScalar(t)) {
      const out = e.vreg();
      e.get(p, A.R1);
      e.free(p);
      e.emit(A.mov64Imm(A.R0, 0), A.jmpImm('jeq', A.R1, 0, done));
      if (info.agg === 'avg') {
        // avg reads total / count of this CPU's partial, the best the kernel side can do.
        e.emit(A.ldx('dw', A.R0, A.R1, 8), A.ldx('dw', A.R2, A.R1, 0), A.jmpImm('jeq', A.R2, 0, done), A.alu64Reg('div', A.R0, A.R2));
      } else {
        e.emit(A.ldx('dw', A.R0, A.R1, 0));
      }
      e.label(done);
      e.set(out, A.R0);
      return { reg: out };
    }
    const out = e.scratch(t.size);
    e.get(p, A.R1);
    e.emit(A.jmpImm('jeq', A.R1, 0, missing));
    this.storeValue(out, { mem: { base: 'ptr', v: p, off: 0 } }, t, t.size);
    e.emit(A.ja(done));
    e.label(missing);
    e.zero(out, t.size);
    e.label(done);
    e.free(p);
    return { mem: out };
  }

  // ----------------------------------------------------------------- events

  sendEvent(spec: EventSpec, fill: (payload: Mem) => void): void {
    const e = this.e;
    const size = EVENT_HEADER + spec.layout.size;
    const rec = e.scratch(size);
    e.emit(A.mov64Imm(A.R0, spec.id));
    e.store('dw', rec, 0, A.R0);
    fill(e.offset(rec, EVENT_HEADER));
    e.mapFd(A.R1, RINGBUF_MAP);
    e.addr(rec, A.R2);
    e.emit(A.mov64Imm(A.R3, size), A.mov64Imm(A.R4, 0));
    e.call('ringbuf_output');
    // A full ring drops the event; count it so the runtime can say `Lost N
    // events`. The record's first word, sent already, serves as the zero key.
    const sent = e.newLabel('sent');
    e.emit(A.jmpImm('jeq', A.R0, 0, sent));
    e.storeImm('w', rec, 0, 0);
    e.mapFd(A.R1, LOST_MAP);
    e.addr(rec, A.R2);
    e.call('map_lookup_elem');
    e.emit(A.jmpImm('jeq', A.R0, 0, sent), A.ldx('dw', A.R1, A.R0, 0), A.alu64Imm('add', A.R1, 1), A.stx('dw', A.R0, 0, A.R1));
    e.label(sent);
  }
}

export { ctypeToTy, SCRATCH };
