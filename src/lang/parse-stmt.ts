// Blocks and statements. A statement that ends in a block (if, while,
// unroll, for, a nested block) needs no `;` after it; any other needs `;`
// before the next one. Empty statements (`;;`) are accepted, as newer
// bpftrace does.
import type { AssignOp, Block, Expr, ForMap, ForRange, If, Let, Stmt, Unroll, While } from './ast.js';
import { operandLoc, span } from './loc.js';
import { parseExpr, parseMap, parseNegativeInt, parseType, startsExpr } from './parse-expr.js';
import type { ParserState } from './parser-state.js';
import { ASSIGN_OPS, isPunct, isWord, type Token } from './tokens.js';

const BLOCK_LIKE = new Set<Stmt['kind']>(['If', 'Unroll', 'While', 'ForMap', 'ForRange', 'Block']);

export function parseBlock(ps: ParserState, expecting: string[] = ['{']): Block {
  return parseBlockBody(ps, ps.expect('{', expecting));
}

/** The statements after `open` through the matching `}`, which is the last token read. */
export function parseBlockBody(ps: ParserState, open: Token): Block {
  const stmts: Stmt[] = [];
  for (;;) {
    const t = ps.peek();
    if (isPunct(t, '}')) {
      ps.next();
      return { kind: 'Block', loc: span(open.loc, t.loc), stmts };
    }
    if (isPunct(t, ';')) {
      ps.next();
      continue;
    }
    if (!startsExpr(t) && !isPunct(t, '{')) ps.fail(t, ['}']);
    const s = parseStatement(ps);
    stmts.push(s);
    if (BLOCK_LIKE.has(s.kind)) continue;
    const n = ps.peek();
    if (isPunct(n, ';')) ps.next();
    else if (!isPunct(n, '}')) ps.fail(n, ['}']);
  }
}

function parseStatement(ps: ParserState): Stmt {
  const t = ps.peek();
  if (isPunct(t, '{')) return parseBlock(ps);
  if (t.kind === 'ident') {
    switch (t.text) {
      case 'if':
        return parseIf(ps);
      case 'unroll':
        return parseUnroll(ps);
      case 'while':
        return parseWhile(ps);
      case 'for':
        return parseFor(ps);
      case 'break':
        ps.next();
        return { kind: 'Break', loc: t.loc };
      case 'continue':
        ps.next();
        return { kind: 'Continue', loc: t.loc };
      case 'return':
        ps.next();
        return { kind: 'Return', loc: t.loc };
      case 'let':
        // Only a declaration when a variable follows; bpftrace 0.17 had no `let`.
        if (ps.peek(1).kind === 'var') return parseLet(ps);
    }
  }
  const e = parseExpr(ps);
  const op = ps.peek();
  if (op.kind !== 'punct' || !ASSIGN_OPS.has(op.text)) return { kind: 'ExprStmt', loc: ps.spanOf(e), expr: e };
  if ((e.kind !== 'Var' && e.kind !== 'Map') || ps.parenthesized.has(e)) ps.fail(op, ['}']);
  ps.next();
  const value = parseExpr(ps);
  // A compound assignment is `target = target OP value` to bpftrace, whose
  // type errors cover target and value the way a binary expression's do.
  const loc = op.text === '=' ? span(ps.spanOf(e), ps.spanOf(value)) : span(e.loc, operandLoc(value));
  return { kind: 'Assign', loc, target: e, op: op.text as AssignOp, value, opLoc: op.loc };
}

/** `(cond)` after if/while. */
function parseCondition(ps: ParserState): { cond: Expr; close: Token } {
  ps.expect('(');
  const cond = parseExpr(ps);
  return { cond, close: ps.expect(')') };
}

/** Loc: `if (cond)`. */
function parseIf(ps: ParserState): If {
  const kw = ps.next();
  const { cond, close } = parseCondition(ps);
  const then = parseBlock(ps);
  let els: Block | If | null = null;
  if (isWord(ps.peek(), 'else')) {
    ps.next();
    const n = ps.peek();
    if (isWord(n, 'if')) els = parseIf(ps);
    else if (isPunct(n, '{')) els = parseBlock(ps);
    else ps.fail(n, ['{', 'if']);
  }
  return { kind: 'If', loc: span(kw.loc, close.loc), cond, then, else: els };
}

/** Loc: `unroll (N)`. N is an integer or a positional parameter, as in bpftrace. */
function parseUnroll(ps: ParserState): Unroll {
  const kw = ps.next();
  ps.expect('(');
  const t = ps.peek();
  let count: Expr;
  if (t.kind === 'int') {
    ps.next();
    count = { kind: 'Int', loc: t.loc, value: t.value!, raw: t.text };
  } else if (isPunct(t, '-') && ps.peek(1).kind === 'int') {
    count = parseNegativeInt(ps);
  } else if (t.kind === 'param') {
    ps.next();
    count = { kind: 'Positional', loc: t.loc, index: t.index! };
  } else if (t.kind === 'paramcount') {
    ps.next();
    count = { kind: 'PositionalCount', loc: t.loc };
  } else {
    return ps.fail(t, ['$#', '-', 'positional parameter', 'integer']);
  }
  const close = ps.expect(')');
  const body = parseBlock(ps);
  return { kind: 'Unroll', loc: span(kw.loc, close.loc), count, body };
}

/** Loc: `while (cond)`. */
function parseWhile(ps: ParserState): While {
  const kw = ps.next();
  const { cond, close } = parseCondition(ps);
  const body = parseBlock(ps);
  return { kind: 'While', loc: span(kw.loc, close.loc), cond, body };
}

/** `for ($kv : @map) {}` or `for ($i : a..b) {}`. Loc: through the `)`. */
function parseFor(ps: ParserState): ForMap | ForRange {
  const kw = ps.next();
  ps.expect('(');
  const v = ps.peek();
  if (v.kind !== 'var') ps.fail(v, ['variable']);
  ps.next();
  ps.expect(':');
  if (ps.peek().kind === 'map' && isPunct(ps.peek(1), ')')) {
    const map = parseMap(ps);
    const close = ps.next();
    const body = parseBlock(ps);
    return { kind: 'ForMap', loc: span(kw.loc, close.loc), var: v.text, map, body };
  }
  const start = parseExpr(ps);
  ps.expect('..');
  const end = parseExpr(ps);
  const close = ps.expect(')');
  const body = parseBlock(ps);
  return { kind: 'ForRange', loc: span(kw.loc, close.loc), var: v.text, start, end, body };
}

/** `let $x;`, `let $x = e;`, `let $x: type;`, `let $x: type = e;`. */
function parseLet(ps: ParserState): Let {
  const kw = ps.next();
  const v = ps.next();
  let last = v.loc;
  let type = null;
  let value = null;
  if (isPunct(ps.peek(), ':')) {
    ps.next();
    type = parseType(ps);
    last = type.loc;
  }
  if (isPunct(ps.peek(), '=')) {
    ps.next();
    value = parseExpr(ps);
    last = ps.spanOf(value);
  }
  return { kind: 'Let', loc: span(kw.loc, last), name: v.text, type, value };
}
