// The syntax tree of a bpftrace program. Every node carries the source range
// it came from, because every later diagnostic (type errors, verifier
// rejections) is reported against it.

export interface Loc {
  /** 1-based line and column of the first character. */
  line: number;
  col: number;
  /** 1-based line and column just past the last character (same line for most nodes). */
  endLine: number;
  endCol: number;
  /** Byte offsets into the source text: [start, end). */
  start: number;
  end: number;
}

/** A type written in the source: `uint32`, `struct task_struct *`, `char[16]`, `string`. */
export interface TypeSpec {
  kind: 'TypeSpec';
  loc: Loc;
  /** `int8`..`uint64`, `bool`, `string`, `void`, `char`, `int`, `unsigned int`..., or `struct X` / `union X` / `enum X`. */
  name: string;
  /** Number of `*` after the name. */
  pointer: number;
  /** `char[16]`: element count; null when not an array. */
  arrayLen: number | null;
}

// ---------------------------------------------------------------- expressions

export interface IntLit { kind: 'Int'; loc: Loc; value: bigint; /** literal text, e.g. 0x10, 1_000, 1e6 */ raw: string }
export interface StrLit {
  kind: 'Str'; loc: Loc; value: string;
  /** The exact bytes after escapes (`"\xff"` is not valid UTF-8, so `value` alone can lose it). Set by the parser. */
  bytes?: Uint8Array;
}
export interface BoolLit { kind: 'Bool'; loc: Loc; value: boolean }
/** `pid`, `comm`, `args`, `arg3`, `retval`, `nsecs`, `ctx`, `probe`, `func`, `__builtin_*`... */
export interface Builtin { kind: 'Builtin'; loc: Loc; name: string }
/** `$x` (name without the `$`). */
export interface Var { kind: 'Var'; loc: Loc; name: string }
/** `$1`..`$N`. */
export interface Positional { kind: 'Positional'; loc: Loc; index: number }
/** `$#`. */
export interface PositionalCount { kind: 'PositionalCount'; loc: Loc }
/** `@x`, `@` (name ''), `@x[k]`, `@x[k1, k2]`. `keys` is null for a scalar map. */
export interface MapRef { kind: 'Map'; loc: Loc; name: string; keys: Expr[] | null }
export interface Call {
  kind: 'Call'; loc: Loc; name: string; args: Expr[]; /** location of the name alone */ nameLoc: Loc;
  /** Set by the type pass on aggregation calls: the map they are assigned to (`@x = count()`). */
  assignTarget?: MapRef;
}
export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
export interface Binary { kind: 'Binary'; loc: Loc; op: BinaryOp; left: Expr; right: Expr; opLoc: Loc }
/** `!x`, `~x`, `-x`, `*p` (deref), `&x` (address-of). */
export interface Unary { kind: 'Unary'; loc: Loc; op: '!' | '~' | '-' | '*' | '&'; operand: Expr }
/** `$x++`, `--@m[k]`: value semantics as in C. */
export interface IncDec { kind: 'IncDec'; loc: Loc; op: '++' | '--'; prefix: boolean; target: Var | MapRef }
export interface Ternary { kind: 'Ternary'; loc: Loc; cond: Expr; then: Expr; else: Expr }
/** `a.b` (arrow false) or `a->b` (arrow true). */
export interface Field { kind: 'Field'; loc: Loc; expr: Expr; field: string; arrow: boolean; fieldLoc: Loc }
/** `t.0`: tuple element. */
export interface TupleIndex { kind: 'TupleIndex'; loc: Loc; expr: Expr; index: number }
/** `a[i]`. */
export interface Index { kind: 'Index'; loc: Loc; expr: Expr; index: Expr }
export interface Cast { kind: 'Cast'; loc: Loc; type: TypeSpec; expr: Expr }
export interface Tuple { kind: 'Tuple'; loc: Loc; elems: Expr[] }
/** `sizeof(type)` or `sizeof(expr)`. */
export interface Sizeof { kind: 'Sizeof'; loc: Loc; arg: TypeSpec | Expr }
/** `offsetof(struct X, field)` (field may be dotted: `a.b`). */
export interface Offsetof { kind: 'Offsetof'; loc: Loc; type: TypeSpec; field: string[] }

export type Expr =
  | IntLit | StrLit | BoolLit | Builtin | Var | Positional | PositionalCount | MapRef | Call
  | Binary | Unary | IncDec | Ternary | Field | TupleIndex | Index | Cast | Tuple | Sizeof | Offsetof;

// ----------------------------------------------------------------- statements

export interface ExprStmt { kind: 'ExprStmt'; loc: Loc; expr: Expr }
export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';
/** `$x = e`, `@m[k] = e`, `@m += e`. Compound forms keep their operator. */
export interface Assign {
  kind: 'Assign'; loc: Loc; target: Var | MapRef; op: AssignOp; value: Expr;
  /** The operator token; bpftrace reports `$x` type mismatches there. Set by the parser. */
  opLoc?: Loc;
}
/** `let $x;`, `let $x = e;`, `let $x: uint32 = e;`, and bpftrace's `$x : type` declarations. */
export interface Let { kind: 'Let'; loc: Loc; name: string; type: TypeSpec | null; value: Expr | null }
export interface If { kind: 'If'; loc: Loc; cond: Expr; then: Block; else: Block | If | null }
export interface Unroll { kind: 'Unroll'; loc: Loc; count: Expr; body: Block }
export interface While { kind: 'While'; loc: Loc; cond: Expr; body: Block }
/** `for ($kv : @map) { }`. */
export interface ForMap { kind: 'ForMap'; loc: Loc; var: string; map: MapRef; body: Block }
/** `for ($i : a..b) { }`: a inclusive, b exclusive. */
export interface ForRange { kind: 'ForRange'; loc: Loc; var: string; start: Expr; end: Expr; body: Block }
export interface Break { kind: 'Break'; loc: Loc }
export interface Continue { kind: 'Continue'; loc: Loc }
export interface Return { kind: 'Return'; loc: Loc }
export interface Block { kind: 'Block'; loc: Loc; stmts: Stmt[] }

export type Stmt = ExprStmt | Assign | Let | If | Unroll | While | ForMap | ForRange | Break | Continue | Return | Block;

// ---------------------------------------------------------------- top level

/**
 * One attach point as written. The parser only splits it; what the parts mean
 * (a path, a function, a rate) belongs to the probe provider.
 */
export interface AttachPoint {
  kind: 'AttachPoint';
  loc: Loc;
  /** The text as written, e.g. `t:syscalls:sys_enter_open*` or `uprobe:/bin/bash:readline`. */
  raw: string;
  /** The provider as written (`t`, `tracepoint`, `BEGIN`, `k`...), unnormalised. */
  provider: string;
  /** The `:`-separated parts after the provider, with quotes removed (`"a:b"` stays one part). */
  parts: string[];
}

export interface Probe {
  kind: 'Probe';
  loc: Loc;
  attachPoints: AttachPoint[];
  predicate: Expr | null;
  body: Block;
}

/** `config = { max_strlen = 128; ... }` (values are literals or identifiers). */
export interface Config {
  kind: 'Config';
  loc: Loc;
  entries: { key: string; value: IntLit | StrLit | BoolLit | { kind: 'Ident'; loc: Loc; name: string }; loc: Loc }[];
}

/** A C `struct`/`union`/`enum` definition kept as text for the type layer to parse. */
export interface CDefinition {
  kind: 'CDefinition';
  loc: Loc;
  text: string;
}

/** A user-defined function `fn name($a: int64): int64 { ... }` (newer bpftrace); kept for diagnostics. */
export interface Program {
  kind: 'Program';
  loc: Loc;
  /** File name used in diagnostics (`stdin` for -e, like bpftrace). */
  file: string;
  source: string;
  config: Config | null;
  definitions: CDefinition[];
  /** `#include` and `#define` lines, tolerated and kept for -d ast. */
  preprocessor: string[];
  probes: Probe[];
}

export type Node = Expr | Stmt | Probe | AttachPoint | Program | Config | CDefinition | TypeSpec;
