// Entry point of the front end: source text to Program.
//
// Top level: a `#!` line, `#include`/`#define` lines, C struct/union/enum
// definitions, one `config = { ... }` block and probes, in any order. A probe
// is attach points separated by `,`, an optional `/predicate/` and a block.
//
// Errors follow bpftrace 0.17: lexical errors are collected as lexing goes,
// parsing stops at the first syntax error, and everything found is thrown as
// one CompileError whose message is what bpftrace prints.
import type { AttachPoint, CDefinition, Config, Probe, Program } from './ast.js';
import { splitAttachPoint } from './attach.js';
import { CompileError, error, toBytes, type Diagnostic } from './diagnostics.js';
import { Lexer } from './lexer.js';
import { locOf, noLoc, span, START } from './loc.js';
import { parseExpr } from './parse-expr.js';
import { parseBlockBody } from './parse-stmt.js';
import { ParserState, SyntaxAbort } from './parser-state.js';
import { isPunct, TAG_WORDS } from './tokens.js';
import { isIdentChar } from '../chars.js';

/**
 * Parses a bpftrace program. `file` names the source in diagnostics:
 * `stdin` for `-e` text, the path as given for a script, like bpftrace.
 * Throws CompileError with every lexical error met and the first syntax
 * error, or with the errors bpftrace reports right after parsing.
 */
export function parse(source: string, file = 'stdin'): Program {
  const lexer = new Lexer(toBytes(source));
  const ps = new ParserState(lexer);
  const program: Program = {
    kind: 'Program',
    loc: locOf(START, { offset: lexer.src.length, line: 1, col: 1 }),
    file,
    source,
    config: null,
    definitions: [],
    preprocessor: [],
    probes: [],
  };
  let syntax: Diagnostic | null = null;
  try {
    parseTopLevel(ps, program);
  } catch (e) {
    if (!(e instanceof SyntaxAbort)) throw e;
    syntax = e.diagnostic;
  }
  const diags = [...lexer.diagnostics];
  if (syntax) diags.push(syntax);
  else if (!diags.length) diags.push(...ps.deferred);
  if (diags.length) throw new CompileError(diags, file, source);
  const end = lexer.here();
  program.loc = locOf(START, end);
  return program;
}

function parseTopLevel(ps: ParserState, program: Program): void {
  const lx = ps.lexer;
  if (lx.src.startsWith('#!')) lx.readPreprocessorLine();
  for (;;) {
    lx.skipTrivia();
    if (lx.atEOF()) break;
    if (lx.peekChar() === '#') {
      program.preprocessor.push(lx.readPreprocessorLine().text);
    } else if (TAG_WORDS.has(lx.peekWord())) {
      program.definitions.push(parseCDefinition(ps));
    } else if (lx.wordThen('config', '=')) {
      const c = parseConfig(ps);
      if (program.config) ps.failAt('Only one config block is allowed', c.loc);
      program.config = c;
    } else {
      program.probes.push(parseProbe(ps));
    }
  }
  // bpftrace wants at least one probe, and says so from where the last item ended.
  if (!program.probes.length) ps.failAt('unexpected end of file, expected {', locOf(lx.prevEnd, lx.here()));
}

function parseCDefinition(ps: ParserState): CDefinition {
  const def = ps.lexer.readCDefinition();
  if (!def) ps.fail(ps.peek(), ['}']);
  return { kind: 'CDefinition', loc: def.loc, text: def.text };
}

/** `config = { key = value; ... }`, values being integers, strings, booleans or identifiers. */
function parseConfig(ps: ParserState): Config {
  const kw = ps.next();
  ps.expect('=');
  ps.expect('{');
  const entries: Config['entries'] = [];
  for (;;) {
    const t = ps.peek();
    if (isPunct(t, '}')) break;
    if (isPunct(t, ';')) {
      ps.next();
      continue;
    }
    if (t.kind !== 'ident') ps.fail(t, ['identifier', '}']);
    ps.next();
    ps.expect('=');
    const v = ps.peek();
    let value: Config['entries'][number]['value'];
    if (v.kind === 'int') value = { kind: 'Int', loc: v.loc, value: v.value!, raw: v.text };
    else if (isPunct(v, '-') && ps.peek(1).kind === 'int') {
      ps.next();
      const n = ps.peek();
      value = { kind: 'Int', loc: span(v.loc, n.loc), value: -n.value!, raw: '-' + n.text };
    } else if (v.kind === 'str') value = { kind: 'Str', loc: v.loc, value: Buffer.from(v.bytes!).toString('utf8'), bytes: v.bytes };
    else if (v.kind === 'ident' && (v.text === 'true' || v.text === 'false')) value = { kind: 'Bool', loc: v.loc, value: v.text === 'true' };
    else if (v.kind === 'ident') value = { kind: 'Ident', loc: v.loc, name: v.text };
    else return ps.fail(v);
    const last = ps.next();
    entries.push({ key: t.text, value, loc: span(t.loc, last.loc) });
    const n = ps.peek();
    if (!isPunct(n, ';') && !isPunct(n, '}')) ps.fail(n, [';', '}']);
  }
  const close = ps.next();
  // A `;` after the block is tolerated; read it raw so nothing past it is lexed yet.
  ps.lexer.skipTrivia();
  if (ps.lexer.peekChar() === ';') ps.next();
  return { kind: 'Config', loc: span(kw.loc, close.loc), entries };
}

/** `[A-Za-z0-9_:"$]`: what lets an attach point go on after a separator. */
const continuesAp = (ch: string): boolean => ch.length === 1 && (isIdentChar(ch.charCodeAt(0)) || ch === ':' || ch === '"' || ch === '$');

function parseProbe(ps: ParserState): Probe {
  const lx = ps.lexer;
  const listBegin = lx.prevEnd;
  const attachPoints: AttachPoint[] = [];
  for (;;) {
    lx.skipTrivia();
    // Like bpftrace, an attach point's range starts where the previous token ended.
    const begin = lx.prevEnd;
    let ap = lx.scanAttachPoint();
    lx.skipTrivia();
    // bpftrace 0.17 joins the pieces of an attach point across whitespace
    // (`kprobe : f` is `kprobe:f`); a piece may not start with `/`, which
    // begins a predicate.
    while (ap && continuesAp(lx.peekChar())) {
      const more = lx.scanAttachPoint()!;
      ap = { raw: ap.raw + more.raw, start: ap.start, end: more.end };
      lx.skipTrivia();
    }
    if (ap) {
      attachPoints.push({ kind: 'AttachPoint', loc: locOf(begin, ap.end), raw: ap.raw, ...splitAttachPoint(ap.raw) });
    }
    if (lx.peekChar() !== ',') break;
    ps.next();
  }
  lx.skipTrivia();
  if (lx.atEOF()) ps.failAt('unexpected end of file, expected {', locOf(listBegin, lx.here()));
  let open = ps.next();
  let predicate = null;
  if (isPunct(open, '/')) {
    predicate = parseExpr(ps);
    const end = ps.peek();
    if (end.kind !== 'endpred') ps.fail(end, ['end predicate']);
    ps.next();
    open = ps.next();
  }
  if (!isPunct(open, '{')) ps.fail(open, ['{']);
  const body = parseBlockBody(ps, open);
  if (!attachPoints.length) ps.deferred.push(error('No attach points for probe', noLoc()));
  const first = attachPoints[0]?.loc ?? open.loc;
  return { kind: 'Probe', loc: span(first, body.loc), attachPoints, predicate, body };
}
