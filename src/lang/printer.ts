// `-d ast`: the tree one node per line, indented one space per level, in
// bpftrace 0.17's words (`map: @x`, `call: printf`, `dereference`, `(uint32)`,
// `?:`, `tuple:`...). Compound assignments print as bpftrace stores them,
// `@x += 1` as `@x = @x + 1`. Constructs 0.17 lacks (let, for, config,
// booleans, bare blocks) get lines in the same style.
import type { BinaryOp, Block, Expr, Program, Stmt, TypeSpec } from './ast.js';

export interface PrintOptions {
  /**
   * Text appended to the lines of the expressions bpftrace annotates with a
   * type (literals, variables, maps, calls, binary operators), e.g.
   * `() => ' :: type[none, ctx: 0]'` reproduces bpftrace's parser-stage dump.
   */
  annotate?: (e: Expr) => string;
}

export function printAst(p: Program, opts: PrintOptions = {}): string {
  const out: string[] = [];
  const header = [...p.preprocessor, ...p.definitions.map((d) => d.text)];
  if (header.length) out.push(...header, '');
  out.push('Program');
  const w = new Writer(out, opts.annotate ?? (() => ''));
  if (p.config) {
    w.line(1, 'config');
    for (const e of p.config.entries) {
      const v = e.value;
      const text = v.kind === 'Int' ? intText(v.value) : v.kind === 'Str' ? `"${escape(v.value)}"` : v.kind === 'Bool' ? String(v.value) : v.name;
      w.line(2, `${e.key} = ${text}`);
    }
  }
  for (const probe of p.probes) {
    for (const ap of probe.attachPoints) w.line(1, [ALIASES[ap.provider] ?? ap.provider, ...ap.parts].join(':'));
    if (probe.predicate) {
      w.line(2, 'pred');
      w.expr(probe.predicate, 3);
    }
    w.stmts(probe.body.stmts, 2);
  }
  return out.join('\n') + '\n';
}

/** bpftrace prints providers by their full names. */
const ALIASES: Readonly<Record<string, string>> = {
  t: 'tracepoint', k: 'kprobe', kr: 'kretprobe', u: 'uprobe', ur: 'uretprobe', U: 'usdt', p: 'profile',
  i: 'interval', s: 'software', h: 'hardware', f: 'kfunc', fr: 'kretfunc', w: 'watchpoint', aw: 'asyncwatchpoint',
  rt: 'rawtracepoint', it: 'iter', fentry: 'kfunc', fexit: 'kretfunc',
};

function intText(v: bigint): string {
  // bpftrace holds literals as int64.
  return BigInt.asIntN(64, v).toString();
}

function escape(s: string): string {
  let r = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x0a) r += '\\n';
    else if (b === 0x09) r += '\\t';
    else if (b === 0x22) r += '\\"';
    else if (b === 0x5c) r += '\\\\';
    else if (b < 0x20 || b >= 0x7f) r += '\\x' + b.toString(16).padStart(2, '0');
    else r += String.fromCharCode(b);
  }
  return r;
}

function typeText(t: TypeSpec): string {
  return t.name + '*'.repeat(t.pointer) + (t.arrayLen === null ? '' : `[${t.arrayLen}]`);
}

class Writer {
  constructor(
    private out: string[],
    private annotate: (e: Expr) => string,
  ) {}

  line(depth: number, text: string): void {
    this.out.push(' '.repeat(depth) + text);
  }

  stmts(ss: readonly Stmt[], depth: number): void {
    for (const s of ss) this.stmt(s, depth);
  }

  block(b: Block, depth: number): void {
    this.stmts(b.stmts, depth);
  }

  stmt(s: Stmt, d: number): void {
    switch (s.kind) {
      case 'ExprStmt':
        return this.expr(s.expr, d);
      case 'Assign':
        this.line(d, '=');
        this.expr(s.target, d + 1);
        if (s.op === '=') return this.expr(s.value, d + 1);
        return this.expr(
          { kind: 'Binary', loc: s.loc, op: s.op.slice(0, -1) as BinaryOp, left: s.target, right: s.value, opLoc: s.opLoc ?? s.loc },
          d + 1,
        );
      case 'Let':
        this.line(d, `let: $${s.name}`);
        if (s.type) this.line(d + 1, `type: ${typeText(s.type)}`);
        if (s.value) this.expr(s.value, d + 1);
        return;
      case 'If':
        this.line(d, 'if');
        this.expr(s.cond, d + 1);
        this.line(d + 1, 'then');
        this.block(s.then, d + 2);
        if (s.else) {
          this.line(d + 1, 'else');
          if (s.else.kind === 'If') this.stmt(s.else, d + 2);
          else this.block(s.else, d + 2);
        }
        return;
      case 'Unroll':
        this.line(d, 'unroll');
        this.expr(s.count, d + 1);
        this.line(d + 1, 'block');
        return this.block(s.body, d + 2);
      case 'While':
        this.line(d, 'while(');
        this.expr(s.cond, d + 1);
        this.line(d + 1, ')');
        return this.block(s.body, d + 2);
      case 'ForMap':
      case 'ForRange':
        this.line(d, 'for');
        this.line(d + 1, 'decl');
        this.line(d + 2, `variable: $${s.var}`);
        if (s.kind === 'ForMap') {
          this.line(d + 1, 'expr');
          this.expr(s.map, d + 2);
        } else {
          this.line(d + 1, 'range');
          this.expr(s.start, d + 2);
          this.expr(s.end, d + 2);
        }
        this.line(d + 1, 'stmts');
        return this.block(s.body, d + 2);
      case 'Break':
        return this.line(d, 'break');
      case 'Continue':
        return this.line(d, 'continue');
      case 'Return':
        return this.line(d, 'return');
      case 'Block':
        this.line(d, 'block');
        return this.block(s, d + 1);
    }
  }

  expr(e: Expr, d: number): void {
    const a = this.annotate(e);
    switch (e.kind) {
      case 'Int':
        return this.line(d, `int: ${intText(e.value)}${a}`);
      case 'Str':
        return this.line(d, `string: ${escape(e.value)}${a}`);
      case 'Bool':
        return this.line(d, `bool: ${e.value}${a}`);
      case 'Builtin':
        return this.line(d, `builtin: ${e.name}${a}`);
      case 'Var':
        return this.line(d, `variable: $${e.name}${a}`);
      case 'Positional':
        return this.line(d, `param: $${e.index}${a}`);
      case 'PositionalCount':
        return this.line(d, `param: $#${a}`);
      case 'Map':
        this.line(d, `map: @${e.name}${a}`);
        for (const k of e.keys ?? []) this.expr(k, d + 1);
        return;
      case 'Call':
        this.line(d, `call: ${e.name}${a}`);
        for (const x of e.args) {
          if ((e.name === 'kstack' || e.name === 'ustack') && x.kind === 'Builtin') this.line(d + 1, `stack_mode: ${x.name}${this.annotate(x)}`);
          else this.expr(x, d + 1);
        }
        return;
      case 'Sizeof':
        this.line(d, `call: sizeof${a}`);
        if (e.arg.kind === 'TypeSpec') this.line(d + 1, `identifier: ${typeText(e.arg)}${a}`);
        else this.expr(e.arg, d + 1);
        return;
      case 'Offsetof':
        this.line(d, `call: offsetof${a}`);
        this.line(d + 1, `identifier: ${typeText(e.type)}`);
        this.line(d + 1, `field: ${e.field.join('.')}`);
        return;
      case 'Binary':
        this.line(d, `${e.op}${a}`);
        this.expr(e.left, d + 1);
        return this.expr(e.right, d + 1);
      case 'Unary':
        this.line(d, e.op === '*' ? 'dereference' : e.op);
        return this.expr(e.operand, d + 1);
      case 'IncDec':
        if (e.prefix) {
          this.line(d, e.op);
          return this.expr(e.target, d + 1);
        }
        this.expr(e.target, d);
        return this.line(d + 1, e.op);
      case 'Ternary':
        this.line(d, '?:');
        this.expr(e.cond, d + 1);
        this.expr(e.then, d + 1);
        return this.expr(e.else, d + 1);
      case 'Field':
        this.line(d, '.');
        if (e.arrow) {
          this.line(d + 1, 'dereference');
          this.expr(e.expr, d + 2);
        } else this.expr(e.expr, d + 1);
        return this.line(d + 1, e.field);
      case 'TupleIndex':
        this.line(d, '.');
        this.expr(e.expr, d + 1);
        return this.line(d + 1, String(e.index));
      case 'Index':
        this.line(d, '[]');
        this.expr(e.expr, d + 1);
        return this.expr(e.index, d + 1);
      case 'Cast':
        this.line(d, `(${typeText(e.type)})`);
        return this.expr(e.expr, d + 1);
      case 'Tuple':
        this.line(d, 'tuple:');
        for (const x of e.elems) this.expr(x, d + 1);
        return;
    }
  }
}
