// The -d ast printer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../src/lang/parser.js';
import { printAst } from '../../src/lang/printer.js';

const PARSER_STAGE = { annotate: () => ' :: type[none, ctx: 0]' };

// Expected texts are the "AST after: parser" section of `bpftrace -d -e PROGRAM`
// from Debian's bpftrace 0.17.0, copied verbatim.
const FROM_BPFTRACE_017: [string, string][] = [
  [
    "BEGIN { @y = *$x; @zz = kstack(perf, 3); @q = args->a.b; @r = $x[1]; @m = $x - -1; @p = (uint8 *)0; @l = (struct X)0; @x[1]--; $s = \"a\\tb\\\"c\\\\d\\x01\"; @z = sizeof(struct X); @t = $c ? 1 : 2; unroll(2) { @i = !~1; } }",
    "Program\n BEGIN\n  =\n   map: @y :: type[none, ctx: 0]\n   dereference\n    variable: $x :: type[none, ctx: 0]\n  =\n   map: @zz :: type[none, ctx: 0]\n   call: kstack :: type[none, ctx: 0]\n    stack_mode: perf :: type[none, ctx: 0]\n    int: 3 :: type[none, ctx: 0]\n  =\n   map: @q :: type[none, ctx: 0]\n   .\n    .\n     dereference\n      builtin: args :: type[none, ctx: 0]\n     a\n    b\n  =\n   map: @r :: type[none, ctx: 0]\n   []\n    variable: $x :: type[none, ctx: 0]\n    int: 1 :: type[none, ctx: 0]\n  =\n   map: @m :: type[none, ctx: 0]\n   - :: type[none, ctx: 0]\n    variable: $x :: type[none, ctx: 0]\n    int: -1 :: type[none, ctx: 0]\n  =\n   map: @p :: type[none, ctx: 0]\n   (uint8*)\n    int: 0 :: type[none, ctx: 0]\n  =\n   map: @l :: type[none, ctx: 0]\n   (struct X)\n    int: 0 :: type[none, ctx: 0]\n  map: @x :: type[none, ctx: 0]\n   int: 1 :: type[none, ctx: 0]\n   --\n  =\n   variable: $s :: type[none, ctx: 0]\n   string: a\\tb\\\"c\\\\d\\x01 :: type[none, ctx: 0]\n  =\n   map: @z :: type[none, ctx: 0]\n   call: sizeof :: type[none, ctx: 0]\n    identifier: struct X :: type[none, ctx: 0]\n  =\n   map: @t :: type[none, ctx: 0]\n   ?:\n    variable: $c :: type[none, ctx: 0]\n    int: 1 :: type[none, ctx: 0]\n    int: 2 :: type[none, ctx: 0]\n  unroll\n   int: 2 :: type[none, ctx: 0]\n   block\n    =\n     map: @i :: type[none, ctx: 0]\n     !\n      ~\n       int: 1 :: type[none, ctx: 0]\n",
  ],
  [
    "kprobe:do_nanosleep,tracepoint:syscalls:sys_enter_open* /pid == 1 && comm != \"x\"/ { @a[pid, comm] = count(); $x = (uint32)arg0; @b = args->filename; $t = (1, \"a\"); print($t.0); if ($x) { @c++ } else if (1) { --$x } else { @d[1] += 2 } }",
    "Program\n kprobe:do_nanosleep\n tracepoint:syscalls:sys_enter_open*\n  pred\n   && :: type[none, ctx: 0]\n    == :: type[none, ctx: 0]\n     builtin: pid :: type[none, ctx: 0]\n     int: 1 :: type[none, ctx: 0]\n    != :: type[none, ctx: 0]\n     builtin: comm :: type[none, ctx: 0]\n     string: x :: type[none, ctx: 0]\n  =\n   map: @a :: type[none, ctx: 0]\n    builtin: pid :: type[none, ctx: 0]\n    builtin: comm :: type[none, ctx: 0]\n   call: count :: type[none, ctx: 0]\n  =\n   variable: $x :: type[none, ctx: 0]\n   (uint32)\n    builtin: arg0 :: type[none, ctx: 0]\n  =\n   map: @b :: type[none, ctx: 0]\n   .\n    dereference\n     builtin: args :: type[none, ctx: 0]\n    filename\n  =\n   variable: $t :: type[none, ctx: 0]\n   tuple:\n    int: 1 :: type[none, ctx: 0]\n    string: a :: type[none, ctx: 0]\n  call: print :: type[none, ctx: 0]\n   .\n    variable: $t :: type[none, ctx: 0]\n    0\n  if\n   variable: $x :: type[none, ctx: 0]\n   then\n    map: @c :: type[none, ctx: 0]\n     ++\n   else\n    if\n     int: 1 :: type[none, ctx: 0]\n     then\n      --\n       variable: $x :: type[none, ctx: 0]\n     else\n      =\n       map: @d :: type[none, ctx: 0]\n        int: 1 :: type[none, ctx: 0]\n       + :: type[none, ctx: 0]\n        map: @d :: type[none, ctx: 0]\n         int: 1 :: type[none, ctx: 0]\n        int: 2 :: type[none, ctx: 0]\n",
  ]
];

test('with type annotations the tree reads like bpftrace 0.17\'s parser-stage dump', () => {
  for (const [src, want] of FROM_BPFTRACE_017) assert.equal(printAst(parse(src), PARSER_STAGE), want, src);
});

test('without annotations, and constructs bpftrace 0.17 lacks', () => {
  const src =
    '#include <linux/sched.h>\nstruct X { int a; };\nconfig = { max_strlen = 64; stack_mode = perf }\n' +
    'k:f, t:a:b { let $x: uint8[4]; let $y = true; for ($kv : @m) { } for ($i : 0..$1) { break; } { @n <<= 1; } ' +
    'while (0) { continue } @o = offsetof(struct X, a.b); @s = sizeof(int *); return }';
  assert.equal(
    printAst(parse(src)),
    [
      '#include <linux/sched.h>',
      'struct X { int a; };',
      '',
      'Program',
      ' config',
      '  max_strlen = 64',
      '  stack_mode = perf',
      ' kprobe:f',
      ' tracepoint:a:b',
      '  let: $x',
      '   type: uint8[4]',
      '  let: $y',
      '   bool: true',
      '  for',
      '   decl',
      '    variable: $kv',
      '   expr',
      '    map: @m',
      '   stmts',
      '  for',
      '   decl',
      '    variable: $i',
      '   range',
      '    int: 0',
      '    param: $1',
      '   stmts',
      '    break',
      '  block',
      '   =',
      '    map: @n',
      '    <<',
      '     map: @n',
      '     int: 1',
      '  while(',
      '   int: 0',
      '   )',
      '    continue',
      '  =',
      '   map: @o',
      '   call: offsetof',
      '    identifier: struct X',
      '    field: a.b',
      '  =',
      '   map: @s',
      '   call: sizeof',
      '    identifier: int*',
      '  return',
      '',
    ].join('\n'),
  );
});

test('integers print as int64, like bpftrace', () => {
  const out = printAst(parse('BEGIN { @a = 0xffffffffffffffff; @b = -18446744073709551615; @c = -9223372036854775808; }'));
  assert.match(out, /int: -1\n[\s\S]*int: 1\n[\s\S]*int: -9223372036854775808\n/);
});
