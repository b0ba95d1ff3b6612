// Block scope for `let` declarations, as newer bpftrace documents it: a
// variable declared with `let` lives from its declaration to the end of the
// enclosing block (nested blocks included) and may not be declared again
// while it is visible. Variables that are only assigned (`$x = 1`) keep
// bpftrace 0.17's rule, one variable for the whole probe, so programs 0.17
// runs mean the same here.
//
// The pass renames each `let` variable declared inside a nested block to a
// name of its own (`x@1`), so the type pass and code generation, which key
// variables by name, see distinct variables; `displayName` undoes it in
// messages. Declarations at the top of a probe keep their name: their scope
// is the whole probe, as an assigned variable's is.
import type * as AST from '../lang/ast.js';
import type { Expr, Stmt } from '../lang/ast.js';
import type { Diagnostic } from '../lang/diagnostics.js';

/** `$x@3` (an internal name) as the user wrote it: `$x`. */
export function displayName(text: string): string {
  return text.replace(/(\$?[A-Za-z_]\w*)(?:@\d+)+/g, '$1');
}

class Scoper {
  /** Innermost last: user name -> internal name of the `let` variables visible there. */
  private scopes: Map<string, string>[] = [];
  /** Names assigned without `let` so far in this probe (probe-wide, bpftrace 0.17). */
  private implicit = new Set<string>();
  private counter = 0;

  constructor(private readonly diags: Diagnostic[]) {}

  probe(p: AST.Probe): void {
    this.scopes = [new Map()];
    this.implicit = new Set();
    if (p.predicate) this.expr(p.predicate);
    this.stmts(p.body.stmts);
  }

  private lookup(name: string): string | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const n = this.scopes[i].get(name);
      if (n !== undefined) return n;
    }
    return undefined;
  }

  private block(b: AST.Block): void {
    this.scopes.push(new Map());
    this.stmts(b.stmts);
    this.scopes.pop();
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private varRef(v: { name: string }): void {
    const n = this.lookup(v.name);
    if (n !== undefined) v.name = n;
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'ExprStmt':
        return this.expr(s.expr);
      case 'Assign':
        this.expr(s.value);
        if (s.target.kind === 'Var') {
          const n = this.lookup(s.target.name);
          if (n !== undefined) s.target.name = n;
          else this.implicit.add(s.target.name);
        } else this.expr(s.target);
        return;
      case 'Let': {
        if (s.value) this.expr(s.value);
        if (this.lookup(s.name) !== undefined || this.implicit.has(s.name)) {
          this.diags.push({
            severity: 'error',
            message: `Variable $${s.name} was already declared. Variable shadowing is not allowed.`,
            loc: s.loc,
          });
          return;
        }
        const top = this.scopes.length === 1;
        const internal = top ? s.name : `${s.name}@${++this.counter}`;
        this.scopes[this.scopes.length - 1].set(s.name, internal);
        s.name = internal;
        return;
      }
      case 'If':
        this.expr(s.cond);
        this.block(s.then);
        if (s.else?.kind === 'If') {
          // `else if`: its own scope, like a block holding the if.
          this.scopes.push(new Map());
          this.stmt(s.else);
          this.scopes.pop();
        } else if (s.else) this.block(s.else);
        return;
      case 'Unroll':
        this.expr(s.count);
        return this.block(s.body);
      case 'While':
        this.expr(s.cond);
        return this.block(s.body);
      case 'ForRange':
        this.expr(s.start);
        this.expr(s.end);
        return this.loop(s.var, s.body);
      case 'ForMap':
        this.expr(s.map);
        return this.loop(s.var, s.body);
      case 'Block':
        return this.block(s);
      case 'Break':
      case 'Continue':
      case 'Return':
        return;
    }
  }

  /** A for loop's variable belongs to the loop: an outer `let` of that name is not seen inside. */
  private loop(name: string, body: AST.Block): void {
    const inner = new Map<string, string>([[name, name]]);
    this.scopes.push(inner);
    this.block(body);
    this.scopes.pop();
  }

  private expr(e: Expr): void {
    switch (e.kind) {
      case 'Var':
        return this.varRef(e);
      case 'Map':
        for (const k of e.keys ?? []) this.expr(k);
        return;
      case 'Call':
        for (const a of e.args) this.expr(a);
        return;
      case 'Binary':
        this.expr(e.left);
        return this.expr(e.right);
      case 'Unary':
        return this.expr(e.operand);
      case 'IncDec':
        return this.expr(e.target);
      case 'Ternary':
        this.expr(e.cond);
        this.expr(e.then);
        return this.expr(e.else);
      case 'Field':
      case 'TupleIndex':
      case 'Cast':
        return this.expr(e.expr);
      case 'Index':
        this.expr(e.expr);
        return this.expr(e.index);
      case 'Tuple':
        for (const x of e.elems) this.expr(x);
        return;
      case 'Sizeof':
        if (e.arg.kind !== 'TypeSpec') this.expr(e.arg);
        return;
      default:
        return;
    }
  }
}

/** Applies `let` scoping to every probe; errors go to `diags`. */
export function scopeVariables(ast: AST.Program, diags: Diagnostic[]): void {
  const s = new Scoper(diags);
  for (const p of ast.probes) s.probe(p);
}
