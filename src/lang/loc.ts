// Source positions. Columns and offsets count bytes of the UTF-8 source, as
// bpftrace does, so a diagnostic's columns and `~` markers line up with what
// bpftrace 0.17 prints even when a line holds non-ASCII text.
import type { Expr, Loc } from './ast.js';

export interface Pos {
  /** Byte offset. */
  offset: number;
  line: number;
  col: number;
}

export const START: Pos = Object.freeze({ offset: 0, line: 1, col: 1 });

export function locOf(begin: Pos, end: Pos): Loc {
  return { line: begin.line, col: begin.col, endLine: end.line, endCol: end.col, start: begin.offset, end: end.offset };
}

/** From the start of `a` to the end of `b`, the way bison joins the locations of a rule's symbols. */
export function span(a: Loc, b: Loc): Loc {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol, start: a.start, end: b.end };
}

/**
 * The location bpftrace 0.17 keeps on a node when it is an operand: a binary
 * expression is remembered by its operator alone, everything else by its own
 * loc. A binary expression's loc is built from its operands' operandLoc, which
 * is how `(1 + 2) + "a"` gets the same range in our errors as in bpftrace's.
 */
export function operandLoc(e: Expr): Loc {
  return e.kind === 'Binary' ? e.opLoc : e.loc;
}

/** bpftrace's location for nodes it builds without one (`if`, a probe without attach points). */
export function noLoc(): Loc {
  return { line: 1, col: 1, endLine: 1, endCol: 1, start: 0, end: 0 };
}
