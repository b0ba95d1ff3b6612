// The contract between the language's builtins and the compiler drivers. Each
// builtin family file exports entries with their type rule and their code
// emission side by side; compile.ts collects them into one Registry and hands
// it to the type pass and the code generator, which never import a builtin.
import type { Builtin, Call, Expr, Loc } from '../lang/ast.js';
import type { CType, Ty } from '../analysis/types.js';
import type { MapInfo, Resources, EventSpec, EventKind } from '../analysis/resources.js';
import type { ArgRead, CtxRead, ProbeTarget } from '../probes/provider.js';
import type { Emitter, Mem, VReg } from '../codegen/emitter.js';

/** A compiled value: an integer-like value in a register, or an aggregate in memory. */
export type Operand = { reg: VReg } | { mem: Mem };

export interface CompileOptions {
  maxStrlen: number;
  unsafe: boolean;
  positional: string[];
  /** Possible CPUs, for per-CPU reads in the kernel. */
  ncpus: number;
  /** Event ring buffer size in bytes; 0 sizes it by the CPU count (runtime/session.ts). */
  ringSize: number;
  /** Stack trace map size. */
  stackMapSize: number;
  pid?: number;
  /** `-c` child pid, for the cpid builtin. */
  cpid?: number;
  /** CLOCK_MONOTONIC at start, for `elapsed`. */
  startNs?: bigint;
  /** Kernel symbol address lookup for kaddr(). */
  resolveKaddr?: (name: string) => bigint | undefined;
  /** cgroup v2 path -> id for cgroupid(). */
  resolveCgroupId?: (path: string) => bigint | undefined;
  /** -k (1) / -kk (2): warn when helpers fail. */
  helperErrors?: number;
  /** Default map size (BPFTRACE_MAP_KEYS_MAX / config max_map_keys). */
  mapKeysMax: number;
}

export interface TypeCtx {
  readonly opts: CompileOptions;
  readonly res: Resources;
  readonly target: ProbeTarget;
  typeOf(e: Expr): Ty;
  error(loc: Loc, msg: string): never;
  warn(loc: Loc, msg: string): void;
  /** Declares or checks the map written by an aggregation or assignment. */
  mapWrite(m: Expr, value: Ty, agg: MapInfo['agg'], loc: Loc, extra?: Partial<MapInfo>): MapInfo;
  /** The map named by an expression that must be a map (`@x` in clear(@x)). */
  mapArg(e: Expr, fn: string): MapInfo;
  addEvent(kind: EventKind, args: Ty[], loc: Loc, extra?: Partial<EventSpec>): EventSpec;
  /** Event id recorded for a call site in this pass (same across targets of one probe). */
  eventFor(call: Call): EventSpec | undefined;
  setEventFor(call: Call, e: EventSpec): void;
  /** Literal string argument, or bpftrace's error naming the function (at `at`, the call, when given). */
  literalString(e: Expr, fn: string, at?: Loc): string;
  literalInt(e: Expr, fn: string, at?: Loc): bigint;
  /** Records an error without abandoning the statement (for bpftrace's errors that come in series). */
  report(loc: Loc, msg: string): void;
  /** Folds an integer constant expression, or undefined when it is not constant. */
  constValue(e: Expr): bigint | undefined;
  /** A C type by name (`struct task_struct`) from the program's definitions or BTF. */
  lookupCType(name: string): CType | undefined;
}

export interface GenCtx {
  readonly e: Emitter;
  readonly opts: CompileOptions;
  readonly res: Resources;
  readonly target: ProbeTarget;
  typeOf(ex: Expr): Ty;
  expr(ex: Expr): Operand;
  /** Evaluates to a register (integers, pointers). */
  int(ex: Expr): VReg;
  /** Evaluates an aggregate into memory. */
  mem(ex: Expr): Mem;
  /** Copies a value of type `ty` into memory at `dst` (zero-padded to `size`). */
  storeValue(dst: Mem, src: Operand, ty: Ty, size: number, to?: Ty): void;
  eventFor(call: Call): EventSpec;
  /** Sends an event: reserves its record in scratch, lets `fill` write the payload, outputs it to the ring. */
  sendEvent(spec: EventSpec, fill: (payload: Mem) => void): void;
  /** Reads `size` bytes from a kernel or user pointer held in physical register `src` into `dst`. */
  probeRead(dst: Mem, size: number, srcReg: number, user: boolean, str?: boolean): void;
  /** Reads a context slot (tracepoint field, pt_regs register, raw tracepoint arg). */
  ctxRead(r: CtxRead, t: Ty): Operand;
  ctxReadInt(r: CtxRead): Operand;
  /** Reads a positional argument however the provider locates it (ctx slot, constant, memory operand). */
  argRead(r: ArgRead): Operand;
  /** Reads a value of type `t` at pointer p + off (frees p). */
  deref(p: VReg, off: number, t: Ty, user: boolean): Operand;
  /** Makes the program return now (exit from the probe). */
  exitProbe(): void;
  /** Map access helpers for map builtins. */
  mapKey(m: Expr & { kind: 'Map' }, info: MapInfo, extra?: VReg): Mem;
  mapLookup(info: MapInfo, key: Mem): VReg;
  mapPtrOrInit(info: MapInfo, key: Mem): VReg;
  mapUpdate(info: MapInfo, key: Mem, value: Mem): void;
  mapDelete(info: MapInfo, key: Mem): void;
  map(name: string): MapInfo;
  /** Folds an integer constant expression, or undefined when it is not constant. */
  constValue(e: Expr): bigint | undefined;
}

export interface FnBuiltin {
  names: string[];
  /** The type rule: checks argument count and types, returns the result type. */
  type(call: Call, t: TypeCtx): Ty;
  /** The code: returns the value, or null for statements-only functions. */
  emit(call: Call, g: GenCtx): Operand | null;
  /** Only allowed as a statement whose value is assigned to a map (`@x = count()`). */
  aggregation?: boolean;
  unsafe?: boolean;
}

export interface VarBuiltin {
  /** Names, or a pattern for families like arg0..argN. */
  names: string[];
  match?: RegExp;
  type(b: Builtin, t: TypeCtx): Ty;
  emit(b: Builtin, g: GenCtx): Operand;
}

export class Registry {
  private readonly fns = new Map<string, FnBuiltin>();
  private readonly vars = new Map<string, VarBuiltin>();
  private readonly patterns: VarBuiltin[] = [];

  addFn(...defs: FnBuiltin[]): this {
    for (const d of defs) for (const n of d.names) this.fns.set(n, d);
    return this;
  }
  addVar(...defs: VarBuiltin[]): this {
    for (const d of defs) {
      for (const n of d.names) this.vars.set(n, d);
      if (d.match) this.patterns.push(d);
    }
    return this;
  }
  fn(name: string): FnBuiltin | undefined {
    return this.fns.get(name);
  }
  variable(name: string): VarBuiltin | undefined {
    return this.vars.get(name) ?? this.patterns.find((p) => p.match!.test(name));
  }
  fnNames(): string[] {
    return [...this.fns.keys()];
  }
}
