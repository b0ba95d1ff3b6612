// Expressions, by recursive descent with C precedence:
//   ?:  ||  &&  |  ^  &  == !=  < <= > >=  << >>  + -  * / %  unary  postfix
// Node locations copy bpftrace 0.17's (see parser-state.ts); the comments on
// each construct say which range that is.
import type { Binary, BinaryOp, Expr, IntLit, Loc, MapRef, TypeSpec, Var } from './ast.js';
import { error } from './diagnostics.js';
import { locOf, operandLoc, span } from './loc.js';
import type { ParserState } from './parser-state.js';
import { CALLS_017, C_INT_WORDS, KEYWORDS, TAG_WORDS, TYPE_WORDS, describe, isPunct, type Token } from './tokens.js';

const PREC: Readonly<Record<string, number>> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5,
  '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

const UNARY_OPS = new Set(['-', '!', '~', '*', '&']);

export function parseExpr(ps: ParserState): Expr {
  const cond = parseBinary(ps, 1);
  if (!isPunct(ps.peek(), '?')) return cond;
  ps.next();
  const then = parseExpr(ps);
  ps.expect(':');
  const els = parseExpr(ps);
  // The whole rule, parentheses of the condition included.
  const loc = span(ps.spanOf(cond), ps.spanOf(els));
  return ps.setSpan({ kind: 'Ternary', loc, cond, then, else: els }, loc);
}

function parseBinary(ps: ParserState, minPrec: number): Expr {
  let left = parseUnary(ps);
  for (;;) {
    const t = ps.peek();
    const p = t.kind === 'punct' ? PREC[t.text] : undefined;
    if (p === undefined || p < minPrec) return left;
    ps.next();
    const right = parseBinary(ps, p + 1);
    // bpftrace keeps only the operator on the node and reports type errors
    // over both operands' node locations; loc is that report's range.
    const node: Binary = {
      kind: 'Binary',
      loc: span(operandLoc(left), operandLoc(right)),
      op: t.text as BinaryOp,
      left,
      right,
      opLoc: t.loc,
    };
    left = ps.setSpan(node, span(ps.spanOf(left), ps.spanOf(right)));
  }
}

/** Tokens that can begin an expression. */
export function startsExpr(t: Token): boolean {
  switch (t.kind) {
    case 'int': case 'str': case 'map': case 'var': case 'param': case 'paramcount':
      return true;
    case 'ident':
      return t.text !== 'else';
    case 'punct':
      return t.text === '(' || t.text === '++' || t.text === '--' || UNARY_OPS.has(t.text);
    default:
      return false;
  }
}

function parseUnary(ps: ParserState): Expr {
  const t = ps.peek();
  if (t.kind !== 'punct') return parsePostfix(ps);
  if (t.text === '-' && ps.peek(1).kind === 'int') return parseNegativeInt(ps);
  if (UNARY_OPS.has(t.text)) {
    ps.next();
    const operand = parseUnary(ps);
    // The operator alone.
    const node: Expr = { kind: 'Unary', loc: t.loc, op: t.text as '-' | '!' | '~' | '*' | '&', operand };
    return ps.setSpan(node, span(t.loc, ps.spanOf(operand)));
  }
  if (t.text === '++' || t.text === '--') return parsePrefixIncDec(ps);
  if (t.text === '(' && isCastAhead(ps)) return parseCast(ps);
  return parsePostfix(ps);
}

/** `-5` is one literal, as in bpftrace: its range covers the sign. */
export function parseNegativeInt(ps: ParserState): IntLit {
  const minus = ps.next();
  const n = ps.next();
  const loc = span(minus.loc, n.loc);
  return { kind: 'Int', loc, value: -n.value!, raw: '-' + n.text };
}

function parsePrefixIncDec(ps: ParserState): Expr {
  const op = ps.next();
  const t = ps.peek();
  if (t.kind === 'var' || t.kind === 'map') {
    const target = t.kind === 'var' ? parseVar(ps) : parseMap(ps);
    const node: Expr = { kind: 'IncDec', loc: op.loc, op: op.text as '++' | '--', prefix: true, target };
    return ps.setSpan(node, span(op.loc, ps.spanOf(target)));
  }
  if (t.kind === 'ident' && !KEYWORDS.has(t.text) && !TAG_WORDS.has(t.text)) {
    // bpftrace parses this and rejects it afterwards, at the operator.
    ps.deferred.push(error(`The ${op.text} operator must be applied to a map or variable`, op.loc));
    return parsePostfix(ps);
  }
  return ps.fail(t);
}

function parseVar(ps: ParserState): Var {
  const t = ps.next();
  return { kind: 'Var', loc: t.loc, name: t.text };
}

/** `@m` (the token) or `@m[k1, k2]` (through the `]`). */
export function parseMap(ps: ParserState): MapRef {
  const t = ps.next();
  if (!isPunct(ps.peek(), '[')) return { kind: 'Map', loc: t.loc, name: t.text, keys: null };
  ps.next();
  if (isPunct(ps.peek(), ']')) ps.fail(ps.peek());
  const keys = [parseExpr(ps)];
  while (isPunct(ps.peek(), ',')) {
    ps.next();
    keys.push(parseExpr(ps));
  }
  const rb = ps.expect(']', [']', ',']);
  return { kind: 'Map', loc: span(t.loc, rb.loc), name: t.text, keys };
}

/** An identifier that may name a type: not a builtin, call or reserved word. */
function isTypeName(t: Token): boolean {
  if (t.kind !== 'ident') return false;
  if (TYPE_WORDS.has(t.text)) return true;
  return describe(t) === 'identifier' && t.text !== 'true' && t.text !== 'false' && t.text !== 'offsetof';
}

/**
 * After `(`: a cast when a type follows. As in bpftrace 0.17, `(name)` with a
 * plain identifier is always a cast, and so is `(name *`.
 */
function isCastAhead(ps: ParserState): boolean {
  const a = ps.peek(1);
  if (a.kind !== 'ident') return false;
  if (TAG_WORDS.has(a.text)) return true;
  if (!isTypeName(a)) return false;
  const b = ps.peek(2);
  if (C_INT_WORDS.has(a.text) && b.kind === 'ident' && C_INT_WORDS.has(b.text)) return true;
  if (isPunct(b, ')') || isPunct(b, '*')) return true;
  return isPunct(b, '[') && ps.peek(3).kind === 'int' && isPunct(ps.peek(4), ']') && isPunct(ps.peek(5), ')');
}

/** The end of a token that follows `struct X`, before the lexer's one-column shift. */
function trueEnd(t: Token): Loc {
  const end = { line: t.loc.endLine, col: t.loc.endCol - 1, offset: t.start + t.text.length };
  return locOf(end, end);
}

function parseCast(ps: ParserState): Expr {
  const lp = ps.next();
  const type = parseType(ps);
  const rp = ps.expect(')', [')', '*']);
  const expr = parseUnary(ps);
  // The parenthesised type alone.
  const loc = span(lp.loc, TAG_WORDS.has(type.name.split(' ')[0]) ? trueEnd(rp) : rp.loc);
  return ps.setSpan({ kind: 'Cast', loc, type, expr }, span(lp.loc, ps.spanOf(expr)));
}

/** `uint32`, `struct task_struct *`, `unsigned long`, `char[16]`, `uint8 *[4]`. */
export function parseType(ps: ParserState): TypeSpec {
  const first = ps.peek();
  if (first.kind !== 'ident') ps.fail(first);
  ps.next();
  let name = first.text;
  let last = first;
  let tagEnd: Loc | null = null;
  if (TAG_WORDS.has(first.text)) {
    const id = ps.peek();
    if (id.kind !== 'ident') ps.fail(id, ['identifier']);
    last = ps.next();
    name += ' ' + id.text;
  } else if (C_INT_WORDS.has(first.text)) {
    for (let w = ps.peek(); w.kind === 'ident' && C_INT_WORDS.has(w.text); w = ps.peek()) {
      last = ps.next();
      name += ' ' + w.text;
    }
  }
  let pointer = 0;
  while (isPunct(ps.peek(), '*')) {
    last = ps.next();
    pointer++;
  }
  // bpftrace's range for `struct X *` runs through the `)` or `,` that ends
  // it, at that character's true column (see the lexer's tagTokensLeft).
  const term = ps.peek();
  if (TAG_WORDS.has(first.text) && (isPunct(term, ')') || isPunct(term, ','))) tagEnd = trueEnd(term);
  let arrayLen: number | null = null;
  if (isPunct(ps.peek(), '[')) {
    ps.next();
    const n = ps.peek();
    if (n.kind !== 'int') ps.fail(n, ['integer']);
    ps.next();
    last = ps.expect(']');
    arrayLen = Number(n.value);
  }
  return { kind: 'TypeSpec', loc: span(first.loc, tagEnd ?? last.loc), name, pointer, arrayLen };
}

function parsePostfix(ps: ParserState): Expr {
  let e = parsePrimary(ps);
  const incDecTarget = (e.kind === 'Var' || e.kind === 'Map') && !ps.parenthesized.has(e);
  for (let first = true; ; first = false) {
    const t = ps.peek();
    if (t.kind !== 'punct') return e;
    const start = ps.spanOf(e);
    if (t.text === '.') {
      ps.next();
      const n = ps.peek();
      if (n.kind === 'int') {
        ps.next();
        // bpftrace keeps the index token.
        e = ps.setSpan({ kind: 'TupleIndex', loc: n.loc, expr: e, index: Number(n.value) }, span(start, n.loc));
      } else if (n.kind === 'ident') {
        ps.next();
        // bpftrace keeps the `.` token.
        e = ps.setSpan({ kind: 'Field', loc: t.loc, expr: e, field: n.text, arrow: false, fieldLoc: n.loc }, span(start, n.loc));
      } else ps.fail(n);
    } else if (t.text === '->') {
      ps.next();
      const n = ps.peek();
      if (n.kind !== 'ident') ps.fail(n);
      ps.next();
      // The whole rule.
      const loc = span(start, n.loc);
      e = ps.setSpan({ kind: 'Field', loc, expr: e, field: n.text, arrow: true, fieldLoc: n.loc }, loc);
    } else if (t.text === '[') {
      ps.next();
      const index = parseExpr(ps);
      const rb = ps.expect(']');
      // The brackets alone.
      e = ps.setSpan({ kind: 'Index', loc: span(t.loc, rb.loc), expr: e, index }, span(start, rb.loc));
    } else if ((t.text === '++' || t.text === '--') && first && incDecTarget) {
      ps.next();
      const target = e as Extract<Expr, { kind: 'Var' | 'Map' }>;
      // The operator token.
      return ps.setSpan({ kind: 'IncDec', loc: t.loc, op: t.text, prefix: false, target }, span(start, t.loc));
    } else return e;
  }
}

function parsePrimary(ps: ParserState): Expr {
  const t = ps.peek();
  switch (t.kind) {
    case 'int':
      ps.next();
      return { kind: 'Int', loc: t.loc, value: t.value!, raw: t.text };
    case 'str':
      ps.next();
      return { kind: 'Str', loc: t.loc, value: Buffer.from(t.bytes!).toString('utf8'), bytes: t.bytes };
    case 'var':
      return parseVar(ps);
    case 'map':
      return parseMap(ps);
    case 'param':
      ps.next();
      return { kind: 'Positional', loc: t.loc, index: t.index! };
    case 'paramcount':
      ps.next();
      return { kind: 'PositionalCount', loc: t.loc };
    case 'ident':
      return parseWord(ps);
    case 'punct':
      if (t.text === '(') return parseParen(ps);
      return ps.fail(t);
    default:
      return ps.fail(t);
  }
}

/** `(e)` is e itself (its range grows to the parentheses); `(a, b)` is a tuple. */
function parseParen(ps: ParserState): Expr {
  const lp = ps.next();
  if (isPunct(ps.peek(), ')')) ps.fail(ps.peek());
  const first = parseExpr(ps);
  if (isPunct(ps.peek(), ',')) {
    const elems = [first];
    while (isPunct(ps.peek(), ',')) {
      ps.next();
      elems.push(parseExpr(ps));
    }
    const rp = ps.expect(')', [')', ',']);
    const loc = span(lp.loc, rp.loc);
    return ps.setSpan({ kind: 'Tuple', loc, elems }, loc);
  }
  const rp = ps.expect(')', [')', ',']);
  ps.parenthesized.add(first);
  return ps.setSpan(first, span(lp.loc, rp.loc));
}

/** Identifiers: builtins, calls, `sizeof`, `offsetof`, `true`/`false`. */
function parseWord(ps: ParserState): Expr {
  const t = ps.peek();
  const name = t.text;
  const callNext = isPunct(ps.peek(1), '(');
  if (name === 'true' || name === 'false') {
    ps.next();
    return { kind: 'Bool', loc: t.loc, value: name === 'true' };
  }
  if (name === 'sizeof' && callNext) return parseSizeof(ps);
  if (name === 'offsetof' && callNext) return parseOffsetof(ps);
  if (KEYWORDS.has(name) || TAG_WORDS.has(name)) ps.fail(t);
  ps.next();
  const after = ps.peek();
  if (callNext) return parseCall(ps, t);
  if (isPunct(after, '++') || isPunct(after, '--')) {
    ps.next();
    ps.deferred.push(error(`The ${after.text} operator must be applied to a map or variable`, t.loc));
    return { kind: 'Builtin', loc: t.loc, name };
  }
  // bpftrace 0.17 lexes its function names apart and wants `(` after them.
  if (CALLS_017.has(name)) ps.fail(after, ['++', '--']);
  return { kind: 'Builtin', loc: t.loc, name };
}

/** `name(args)`: from the name through `)`. */
function parseCall(ps: ParserState, nameTok: Token): Expr {
  ps.next();
  const args: Expr[] = [];
  if (!isPunct(ps.peek(), ')')) {
    args.push(parseExpr(ps));
    while (isPunct(ps.peek(), ',')) {
      ps.next();
      args.push(parseExpr(ps));
    }
  }
  const rp = ps.expect(')', [')', ',']);
  return { kind: 'Call', loc: span(nameTok.loc, rp.loc), name: nameTok.text, args, nameLoc: nameTok.loc };
}

function startsType(ps: ParserState): boolean {
  const t = ps.peek();
  if (t.kind !== 'ident') return false;
  if (TAG_WORDS.has(t.text) || TYPE_WORDS.has(t.text)) return true;
  const n = ps.peek(1);
  return isTypeName(t) && (isPunct(n, ')') || isPunct(n, '*') || isPunct(n, '['));
}

function parseSizeof(ps: ParserState): Expr {
  const kw = ps.next();
  ps.next();
  if (startsType(ps)) {
    const arg = parseType(ps);
    ps.expect(')', [')', '*']);
    // bpftrace 0.17's range for `sizeof(type)` ends where the type's does
    // (through the `)` only for `struct X`, whose range runs over it).
    return { kind: 'Sizeof', loc: span(kw.loc, arg.loc), arg };
  }
  const arg = parseExpr(ps);
  const rp = ps.expect(')', [')', ',']);
  return { kind: 'Sizeof', loc: span(kw.loc, rp.loc), arg };
}

/** `offsetof(struct X, a.b)`. */
function parseOffsetof(ps: ParserState): Expr {
  const kw = ps.next();
  ps.next();
  const type = parseType(ps);
  ps.expect(',', [',', '*']);
  const field: string[] = [];
  for (;;) {
    const n = ps.peek();
    if (n.kind !== 'ident') ps.fail(n, ['identifier']);
    field.push(ps.next().text);
    if (!isPunct(ps.peek(), '.')) break;
    ps.next();
  }
  const rp = ps.expect(')', [')', '.']);
  return { kind: 'Offsetof', loc: span(kw.loc, rp.loc), type, field };
}
