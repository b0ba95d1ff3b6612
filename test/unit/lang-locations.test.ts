// Source locations: token ranges, node ranges, and the diagnostic format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../src/lang/parser.js';
import { formatDiagnostic, formatDiagnostics, CompileError } from '../../src/lang/diagnostics.js';
import type { Loc, Program, Stmt } from '../../src/lang/ast.js';

const stmt = (p: Program, i: number): Stmt => p.probes[0].body.stmts[i];
function valueOf(s: Stmt) {
  if (s.kind === 'Assign') return s.value;
  if (s.kind === 'ExprStmt') return s.expr;
  throw new Error(s.kind);
}
const SELECT: Record<string, (p: Program) => Loc | undefined> = {
  v0: (p) => valueOf(stmt(p, 0)).loc,
  v1: (p) => valueOf(stmt(p, 1)).loc,
  s0: (p) => stmt(p, 0).loc,
  s1: (p) => stmt(p, 1).loc,
  t1: (p) => { const s = stmt(p, 1); return s.kind === 'Assign' ? s.target.loc : undefined; },
  op1: (p) => { const s = stmt(p, 1); return s.kind === 'Assign' ? s.opLoc : undefined; },
  name0: (p) => { const v = valueOf(stmt(p, 0)); return v.kind === 'Call' ? v.nameLoc : undefined; },
  arg0: (p) => { const v = valueOf(stmt(p, 0)); return v.kind === 'Sizeof' ? v.arg.loc : undefined; },
  ap0: (p) => p.probes[0].attachPoints[0].loc,
  ap1: (p) => p.probes[1].attachPoints[0].loc,
};

function rangeText(l: Loc): string {
  return l.line === l.endLine ? `${l.line}:${l.col}-${l.endCol}` : `${l.line}-${l.endLine}`;
}

// The third column is the range Debian's bpftrace 0.17.0 printed for its
// first error (or warning) about the selected node, e.g. a type mismatch on
// a binary expression, an unknown function's name, an attach point warning.
// Node locations reproduce those ranges, quirks included: a token's range
// starts after the last whitespace, a binary operand is its operator, and a
// `struct X` type shifts the rest of its line one column right.
const BPFTRACE_RANGES: [string, string, string][] = [
  ["BEGIN { $x = 1 + \"a\"; }", 'v0', '1:14-21'],
  ["BEGIN { $x = (1 + 2) + \"a\"; }", 'v0', '1:17-27'],
  ["BEGIN { $x = 1 + 2 + 3 + \"a\"; }", 'v0', '1:20-29'],
  ["BEGIN { $x = \"a\" + 2 * 3; }", 'v0', '1:14-23'],
  ["BEGIN { $x = \"a\" + (uint8)2; }", 'v0', '1:14-27'],
  ["BEGIN { $x = - 1 + \"a\"; }", 'v0', '1:14-23'],
  ["BEGIN { $x = ( \"a\" ) + 1; }", 'v0', '1:16-25'],
  ["BEGIN { $x = ( 1 , 2 ) + 1 ; }", 'v0', '1:14-27'],
  ["BEGIN { $x = $y; }", 'v0', '1:14-16'],
  ["BEGIN { @x [ 1 ] = 1; @x [ \"a\" ] = 1; }", 't1', '1:23-33'],
  ["BEGIN { $x = 1; $x = \"a\"; }", 'op1', '1:20-21'],
  ["BEGIN { $x = -\"a\"; }", 'v0', '1:14-15'],
  ["BEGIN { $x = ( \"a\" ) ? 1 : 2; }", 'v0', '1:14-29'],
  ["BEGIN { $x = (1, 2); $y = $x.5; }", 'v1', '1:27-31'],
  ["BEGIN { $x = (1,2); ( $x ) . 3; }", 'v1', '1:30-31'],
  ["BEGIN { $x = ( uint32 ) \"a\"; }", 'v0', '1:14-24'],
  ["BEGIN { $x = (struct foo *)1; }", 'v0', '1:14-28'],
  ["BEGIN { unroll ( 200 ) { } }", 's0', '1:9-23'],
  ["BEGIN { $x = \"a\"; $x ++; }", 'v1', '1:22-24'],
  ["BEGIN { $x = \"a\"; ++ $x; }", 'v1', '1:19-21'],
  ["BEGIN { $x = 1; $y = $x [ 1 ]; }", 'v1', '1:25-30'],
  ["BEGIN { $x = 1; $x[1]; }", 'v1', '1:17-22'],
  ["BEGIN { $x = 1; $x . foo; }", 'v1', '1:20-21'],
  ["BEGIN { $x = 1; $x.foo; }", 'v1', '1:17-20'],
  ["BEGIN { $x = 1; ( $x ) -> foo; }", 'v1', '1:17-30'],
  ["BEGIN{printf(\"%d\\n\", \"a\") }", 'v0', '1:1-26'],
  ["BEGIN { @x = foo(1); }", 'name0', '1:14-17'],
  ["BEGIN{@x=1;@y=foo}", 'v1', '1:1-18'],
  ["BEGIN { @x = 1; @x += \"a\"; }", 's1', '1:17-26'],
  ["BEGIN { break; }", 's0', '1:9-14'],
  ["BEGIN { $x = sizeof ( struct X ) ; }", 'arg0', '1:23-33'],
  ["BEGIN { $t = (struct task_struct *)curtask; $x = $t->foo; }", 'v1', '1:51-58'],
  ["BEGIN { $t = sizeof(struct task_struct); $x = $t->foo; }", 'v1', '1:48-55'],
  ["kprobe:f {}", 'ap0', '1:1-9'],
  ["BEGIN{} kprobe:f{}", 'ap1', '1:8-17'],
  ["BEGIN{}/* x */kprobe:f{}", 'ap1', '1:8-23'],
  ["struct X { int a; }; kprobe:f {}", 'ap0', '1:21-30'],
  ["#!/bin/bpftrace\nkprobe:f {}", 'ap0', '1-2'],
  ["kprobe : f {}", 'ap0', '1:1-11'],
  ["BEGIN { @x = 1.5; }", 'v0', '1:14-17'],
];

test('node locations give the ranges bpftrace 0.17 reports', () => {
  for (const [src, sel, want] of BPFTRACE_RANGES) {
    const l = SELECT[sel](parse(src));
    assert.ok(l, `${src}: nothing selected`);
    assert.equal(rangeText(l), want, src);
  }
});

test('byte offsets and end positions', () => {
  // `"é"` is four bytes (columns 14-17), so the `1` sits at byte 20, column 21.
  const q = parse('BEGIN { @x = "é" + 1; }');
  const v = valueOf(stmt(q, 0));
  assert.ok(v.kind === 'Binary');
  assert.deepEqual(v.right.loc, { line: 1, col: 21, endLine: 1, endCol: 22, start: 20, end: 21 });
  assert.equal(q.loc.end, Buffer.byteLength(q.source));
});

const loc = (line: number, col: number, endLine: number, endCol: number): Loc => ({ line, col, endLine, endCol, start: 0, end: 0 });

test('formatDiagnostic: one-line ranges echo the line and mark the range', () => {
  assert.equal(
    formatDiagnostic({ severity: 'error', message: "Unknown identifier: 'foo'", loc: loc(1, 9, 1, 12) }, 'stdin', 'BEGIN { foo }'),
    "stdin:1:9-12: ERROR: Unknown identifier: 'foo'\nBEGIN { foo }\n        ~~~\n",
  );
  assert.equal(
    formatDiagnostic({ severity: 'warning', message: 'w', loc: loc(2, 2, 2, 3) }, 'a.bt', 'x\n y'),
    'a.bt:2:2-3: WARNING: w\n y\n ~\n',
  );
});

test('formatDiagnostic: tabs become four spaces and four markers', () => {
  assert.equal(
    formatDiagnostic({ severity: 'error', message: 'm', loc: loc(1, 2, 1, 5) }, 'stdin', '\t@x\t= }'),
    'stdin:1:2-5: ERROR: m\n    @x    = }\n    ~~~~~~\n',
  );
});

test('formatDiagnostic: multi-line ranges, empty lines, no location', () => {
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(1, 1, 2, 3) }, 'stdin', 'a\nb'), 'stdin:1-2: ERROR: m\n');
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(2, 1, 2, 1) }, 'stdin', 'a\n'), 'stdin:2:1-1: ERROR: m\n');
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(9, 1, 9, 2) }, 'stdin', 'a'), 'stdin:9:1-2: ERROR: m\n');
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: null }, 'stdin', 'a'), 'ERROR: m\n');
  // An empty range still echoes the line, with blanks up to its column.
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(1, 1, 1, 1) }, 'stdin', '{ }'), 'stdin:1:1-1: ERROR: m\n{ }\n\n');
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(2, 9, 2, 9) }, 'stdin', 'a;\nBEGIN {}'), 'stdin:2:9-9: ERROR: m\nBEGIN {}\n        \n');
});

test('formatDiagnostic: columns count bytes; a CR is a line break of its own', () => {
  assert.equal(
    formatDiagnostic({ severity: 'error', message: 'm', loc: loc(1, 6, 1, 7) }, 'stdin', '"é" }'),
    'stdin:1:6-7: ERROR: m\n"é" }\n     ~\n',
  );
  assert.equal(formatDiagnostic({ severity: 'error', message: 'm', loc: loc(3, 2, 3, 3) }, 'stdin', 'a\r\n b'), 'stdin:3:2-3: ERROR: m\n b\n ~\n');
});

test('CompileError carries its diagnostics and formats them all', () => {
  const ds = [
    { severity: 'error' as const, message: 'one', loc: loc(1, 1, 1, 2) },
    { severity: 'error' as const, message: 'two', loc: null },
  ];
  const e = new CompileError(ds, 'f.bt', 'x');
  assert.equal(e.message, formatDiagnostics(ds, 'f.bt', 'x'));
  assert.equal(e.message, 'f.bt:1:1-2: ERROR: one\nx\n~\nERROR: two\n');
  assert.equal(e.name, 'CompileError');
});
