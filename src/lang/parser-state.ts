// What the parsing functions share: the token stream with lookahead, the
// error exits, and each expression's full range.
//
// A node's `loc` is the range bpftrace 0.17 stores on the node (what its
// errors about the node print); bison computes another range for every
// grammar symbol, from its first token to its last, and bpftrace uses that
// one when the node is part of a bigger rule (a ternary, `a->b`). We keep
// that second range here, per expression, while parsing.
import type { Expr, Loc } from './ast.js';
import { error, type Diagnostic } from './diagnostics.js';
import type { Lexer } from './lexer.js';
import { describe, isPunct, quoteName, type Token } from './tokens.js';

/** Thrown to stop at the first syntax error, as bison does. */
export class SyntaxAbort {
  constructor(readonly diagnostic: Diagnostic) {}
}

export class ParserState {
  private buf: Token[] = [];
  private spans = new WeakMap<Expr, Loc>();
  /** Expressions written in parentheses: `($x) = 1` is not an assignment. */
  readonly parenthesized = new WeakSet<Expr>();
  /** Errors bpftrace finds after parsing; reported only when parsing succeeds. */
  readonly deferred: Diagnostic[] = [];

  constructor(readonly lexer: Lexer) {}

  peek(k = 0): Token {
    while (this.buf.length <= k) this.buf.push(this.lexer.next());
    return this.buf[k];
  }

  next(): Token {
    const t = this.peek();
    this.buf.shift();
    return t;
  }

  /** Consumes punctuator `text`, or fails with bison's `expecting` list. */
  expect(text: string, expecting: string[] = [text]): Token {
    const t = this.peek();
    if (!isPunct(t, text)) this.fail(t, expecting);
    return this.next();
  }

  fail(t: Token, expecting?: string[]): never {
    let msg = `syntax error, unexpected ${describe(t)}`;
    if (expecting && expecting.length) msg += `, expecting ${expecting.map(quoteName).join(' or ')}`;
    throw new SyntaxAbort(error(msg, t.loc));
  }

  failAt(message: string, loc: Loc): never {
    throw new SyntaxAbort(error(message, loc));
  }

  setSpan(e: Expr, l: Loc): Expr {
    this.spans.set(e, l);
    return e;
  }

  spanOf(e: Expr): Loc {
    return this.spans.get(e) ?? e.loc;
  }
}
