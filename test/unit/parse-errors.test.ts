// Programs parse() must reject, with the exact text it must print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../src/lang/parser.js';
import { CompileError } from '../../src/lang/diagnostics.js';

function messageOf(source: string, file?: string): string {
  try {
    parse(source, file);
  } catch (e) {
    assert.ok(e instanceof CompileError, `not a CompileError: ${String(e)}`);
    return e.message;
  }
  return '(parsed)';
}

// Each expected text below is byte-for-byte what `bpftrace -d -e PROGRAM`
// (Debian's bpftrace 0.17.0) printed to stderr, checked by running both.
const VERIFIED_017: [string, string][] = [
  ["BEGIN { @x = }", "stdin:1:14-15: ERROR: syntax error, unexpected }\nBEGIN { @x = }\n             ~\n"],
  ["BEGIN { printf(\"%d\\n\", 1 }", "stdin:1:26-27: ERROR: syntax error, unexpected }, expecting ) or \",\"\nBEGIN { printf(\"%d\\n\", 1 }\n                         ~\n"],
  ["BEGIN { $x = 1 +; }", "stdin:1:16-18: ERROR: syntax error, unexpected ;\nBEGIN { $x = 1 +; }\n               ~~\n"],
  ["BEGIN {", "stdin:1:7-8: ERROR: syntax error, unexpected end of file, expecting }\nBEGIN {\n      ~\n"],
  ["BEGIN { @x = 1", "stdin:1:14-15: ERROR: syntax error, unexpected end of file, expecting }\nBEGIN { @x = 1\n             ~\n"],
  ["BEGIN { \"abc }", "stdin:1:9-15: ERROR: unterminated string\nBEGIN { \"abc }\n        ~~~~~~\nstdin:1:9-15: ERROR: syntax error, unexpected end of file, expecting }\nBEGIN { \"abc }\n        ~~~~~~\n"],
  ["BEGIN { \"\\q\" }", "stdin:1:9-12: ERROR: invalid escape character '\\q'\nBEGIN { \"\\q\" }\n        ~~~\n"],
  ["BEGIN { ` }", "stdin:1:9-10: ERROR: invalid character '`'\nBEGIN { ` }\n        ~\n"],
  ["BEGIN { @x = 1 } }", "stdin:1:18-19: ERROR: syntax error, unexpected }, expecting {\nBEGIN { @x = 1 } }\n                 ~\n"],
  ["BEGIN { @x = 1; @y = ; @z = ; }", "stdin:1:22-23: ERROR: syntax error, unexpected ;\nBEGIN { @x = 1; @y = ; @z = ; }\n                     ~\n"],
  ["BEGIN { f(1,) }", "stdin:1:9-14: ERROR: syntax error, unexpected )\nBEGIN { f(1,) }\n        ~~~~~\n"],
  ["BEGIN {\n  @x = \n}", "stdin:3:1-2: ERROR: syntax error, unexpected }\n}\n~\n"],
  ["BEGIN {\n\t@x = }", "stdin:2:7-8: ERROR: syntax error, unexpected }\n    @x = }\n         ~\n"],
  ["BEGIN { @x =/* c */}", "stdin:1:12-21: ERROR: syntax error, unexpected }\nBEGIN { @x =/* c */}\n           ~~~~~~~~~\n"],
  ["BEGIN { @x = /* a\nb */}", "stdin:2:1-6: ERROR: syntax error, unexpected }\nb */}\n~~~~~\n"],
  ["BEGIN { @x = \"a\nb\" }", "stdin:1:14-17: ERROR: unterminated string\nBEGIN { @x = \"a\n             ~~\nstdin:2:1-5: ERROR: unterminated string\nb\" }\n~~~~\nstdin:2:1-5: ERROR: syntax error, unexpected end of file, expecting }\nb\" }\n~~~~\n"],
  ["BEGIN { @x = 1 /* unterminated", "stdin:1:16-31: ERROR: end of file during comment\nBEGIN { @x = 1 /* unterminated\n               ~~~~~~~~~~~~~~~\nstdin:1:16-31: ERROR: syntax error, unexpected end of file, expecting }\nBEGIN { @x = 1 /* unterminated\n               ~~~~~~~~~~~~~~~\n"],
  ["BEGIN { @x = 1 2 }", "stdin:1:16-17: ERROR: syntax error, unexpected integer, expecting }\nBEGIN { @x = 1 2 }\n               ~\n"],
  ["BEGIN { @x = foo bar }", "stdin:1:18-21: ERROR: syntax error, unexpected identifier, expecting }\nBEGIN { @x = foo bar }\n                 ~~~\n"],
  ["BEGIN { @x = pid pid }", "stdin:1:18-21: ERROR: syntax error, unexpected builtin, expecting }\nBEGIN { @x = pid pid }\n                 ~~~\n"],
  ["BEGIN { @x = \"a\" \"b\" }", "stdin:1:18-21: ERROR: syntax error, unexpected string, expecting }\nBEGIN { @x = \"a\" \"b\" }\n                 ~~~\n"],
  ["BEGIN { @x = @y @z }", "stdin:1:17-19: ERROR: syntax error, unexpected map, expecting }\nBEGIN { @x = @y @z }\n                ~~\n"],
  ["BEGIN { @x = $y $z }", "stdin:1:17-19: ERROR: syntax error, unexpected variable, expecting }\nBEGIN { @x = $y $z }\n                ~~\n"],
  ["BEGIN { @x = $1 $2 }", "stdin:1:17-19: ERROR: syntax error, unexpected positional parameter, expecting }\nBEGIN { @x = $1 $2 }\n                ~~\n"],
  ["BEGIN { @x = count() count() }", "stdin:1:22-27: ERROR: syntax error, unexpected call, expecting }\nBEGIN { @x = count() count() }\n                     ~~~~~\n"],
  ["BEGIN { @x = 1 , }", "stdin:1:16-17: ERROR: syntax error, unexpected \",\", expecting }\nBEGIN { @x = 1 , }\n               ~\n"],
  ["BEGIN { @x = 1 . }", "stdin:1:18-19: ERROR: syntax error, unexpected }\nBEGIN { @x = 1 . }\n                 ~\n"],
  ["BEGIN { @x = 1 else }", "stdin:1:16-20: ERROR: syntax error, unexpected else, expecting }\nBEGIN { @x = 1 else }\n               ~~~~\n"],
  ["BEGIN { @x = 1 $# }", "stdin:1:16-18: ERROR: syntax error, unexpected $#, expecting }\nBEGIN { @x = 1 $# }\n               ~~\n"],
  ["BEGIN { @x = 1 <<= }", "stdin:1:16-19: ERROR: syntax error, unexpected <<=, expecting }\nBEGIN { @x = 1 <<= }\n               ~~~\n"],
  ["BEGIN { @x = 1 kstack }", "stdin:1:16-22: ERROR: syntax error, unexpected call_builtin, expecting }\nBEGIN { @x = 1 kstack }\n               ~~~~~~\n"],
  ["BEGIN { @x = 1 #include }", "stdin:1:16-26: ERROR: syntax error, unexpected preprocessor directive, expecting }\nBEGIN { @x = 1 #include }\n               ~~~~~~~~~~\n"],
  [" ", "stdin:1:1-2: ERROR: unexpected end of file, expected {\n \n~\n"],
  ["BEGIN", "stdin:1:1-6: ERROR: unexpected end of file, expected {\nBEGIN\n~~~~~\n"],
  ["BEGIN }", "stdin:1:7-8: ERROR: syntax error, unexpected }, expecting {\nBEGIN }\n      ~\n"],
  ["BEGIN /1/", "stdin:1:7-10: ERROR: syntax error, unexpected end of file\nBEGIN /1/\n      ~~~\n"],
  ["BEGIN / {}", "stdin:1:7-8: ERROR: syntax error, unexpected end predicate, expecting {\nBEGIN / {}\n      ~\n"],
  ["BEGIN /1 {}", "stdin:1:10-11: ERROR: syntax error, unexpected {, expecting end predicate\nBEGIN /1 {}\n         ~\n"],
  ["BEGIN {} END", "stdin:1:9-13: ERROR: unexpected end of file, expected {\nBEGIN {} END\n        ~~~~\n"],
  ["@x = 1", "stdin:1:1-3: ERROR: syntax error, unexpected map, expecting {\n@x = 1\n~~\n"],
  ["BEGIN { };", "stdin:1:9-11: ERROR: syntax error, unexpected ;, expecting {\nBEGIN { };\n        ~~\n"],
  ["BEGIN\n", "stdin:1-2: ERROR: unexpected end of file, expected {\n"],
  ["BEGIN {} END, kprobe:f", "stdin:1:9-23: ERROR: unexpected end of file, expected {\nBEGIN {} END, kprobe:f\n        ~~~~~~~~~~~~~~\n"],
  ["BEGIN {} END @x", "stdin:1:14-16: ERROR: syntax error, unexpected map, expecting {\nBEGIN {} END @x\n             ~~\n"],
  ["BEGIN {} END 1", "stdin:1:9-15: ERROR: unexpected end of file, expected {\nBEGIN {} END 1\n        ~~~~~~\n"],
  ["BEGIN /1 / /2/ {}", "stdin:1:12-13: ERROR: syntax error, unexpected /, expecting {\nBEGIN /1 / /2/ {}\n           ~\n"],
  ["BEGIN { ) }", "stdin:1:9-10: ERROR: syntax error, unexpected ), expecting }\nBEGIN { ) }\n        ~\n"],
  ["BEGIN { $x = (1 2) }", "stdin:1:17-18: ERROR: syntax error, unexpected integer, expecting ) or \",\"\nBEGIN { $x = (1 2) }\n                ~\n"],
  ["BEGIN { @x[1 2] }", "stdin:1:14-15: ERROR: syntax error, unexpected integer, expecting ] or \",\"\nBEGIN { @x[1 2] }\n             ~\n"],
  ["BEGIN { $x = 1 ? 2 3 }", "stdin:1:20-21: ERROR: syntax error, unexpected integer, expecting :\nBEGIN { $x = 1 ? 2 3 }\n                   ~\n"],
  ["BEGIN { if (1 2) {} }", "stdin:1:15-16: ERROR: syntax error, unexpected integer, expecting )\nBEGIN { if (1 2) {} }\n              ~\n"],
  ["BEGIN { if (1) 2 }", "stdin:1:16-17: ERROR: syntax error, unexpected integer, expecting {\nBEGIN { if (1) 2 }\n               ~\n"],
  ["BEGIN { if 1 {} }", "stdin:1:12-13: ERROR: syntax error, unexpected integer, expecting (\nBEGIN { if 1 {} }\n           ~\n"],
  ["BEGIN { if (1) {} else 2 }", "stdin:1:24-25: ERROR: syntax error, unexpected integer, expecting { or if\nBEGIN { if (1) {} else 2 }\n                       ~\n"],
  ["BEGIN { unroll (5) 2 }", "stdin:1:20-21: ERROR: syntax error, unexpected integer, expecting {\nBEGIN { unroll (5) 2 }\n                   ~\n"],
  ["BEGIN { unroll ( }", "stdin:1:18-19: ERROR: syntax error, unexpected }, expecting $# or - or positional parameter or integer\nBEGIN { unroll ( }\n                 ~\n"],
  ["BEGIN { while 1 {} }", "stdin:1:15-16: ERROR: syntax error, unexpected integer, expecting (\nBEGIN { while 1 {} }\n              ~\n"],
  ["BEGIN { $x[1 2] }", "stdin:1:14-15: ERROR: syntax error, unexpected integer, expecting ]\nBEGIN { $x[1 2] }\n             ~\n"],
  ["BEGIN { $x-> }", "stdin:1:14-15: ERROR: syntax error, unexpected }\nBEGIN { $x-> }\n             ~\n"],
  ["BEGIN { $x->1 }", "stdin:1:9-14: ERROR: syntax error, unexpected integer\nBEGIN { $x->1 }\n        ~~~~~\n"],
  ["BEGIN { (uint32) }", "stdin:1:18-19: ERROR: syntax error, unexpected }\nBEGIN { (uint32) }\n                 ~\n"],
  ["BEGIN { @x[] = 1 }", "stdin:1:9-13: ERROR: syntax error, unexpected ]\nBEGIN { @x[] = 1 }\n        ~~~~\n"],
  ["BEGIN { f(, ) }", "stdin:1:9-12: ERROR: syntax error, unexpected \",\"\nBEGIN { f(, ) }\n        ~~~\n"],
  ["BEGIN { $x = (1,) }", "stdin:1:14-18: ERROR: syntax error, unexpected )\nBEGIN { $x = (1,) }\n             ~~~~\n"],
  ["BEGIN { return 1 }", "stdin:1:16-17: ERROR: syntax error, unexpected integer, expecting }\nBEGIN { return 1 }\n               ~\n"],
  ["BEGIN { $x = 1 ?: 2 }", "stdin:1:16-18: ERROR: syntax error, unexpected :\nBEGIN { $x = 1 ?: 2 }\n               ~~\n"],
  ["BEGIN { @a = 1e20; @b = 08; }", "stdin:1:14-18: ERROR: Exponent will overflow integer range: 20\nBEGIN { @a = 1e20; @b = 08; }\n             ~~~~\nstdin:1:14-19: ERROR: syntax error, unexpected ;\nBEGIN { @a = 1e20; @b = 08; }\n             ~~~~~\n"],
  ["BEGIN { @a = \"\\400\"; }", "stdin:1:14-19: ERROR: octal escape sequence out of range '\\400'\nBEGIN { @a = \"\\400\"; }\n             ~~~~~\n"],
  ["BEGIN { @a = \"\\x\"; }", "stdin:1:14-17: ERROR: invalid escape character '\\x'\nBEGIN { @a = \"\\x\"; }\n             ~~~\n"],
  ["BEGIN { @ = 99999999999999999999; }", "stdin:1:13-33: ERROR: stoull\nBEGIN { @ = 99999999999999999999; }\n            ~~~~~~~~~~~~~~~~~~~~\nstdin:1:13-34: ERROR: syntax error, unexpected ;\nBEGIN { @ = 99999999999999999999; }\n            ~~~~~~~~~~~~~~~~~~~~~\n"],
  ["BEGIN { @a = 1_0e2; }", "stdin:1:14-19: ERROR: Coefficient part of scientific literal must be in range (0,9), got: 10\nBEGIN { @a = 1_0e2; }\n             ~~~~~\nstdin:1:14-20: ERROR: syntax error, unexpected ;\nBEGIN { @a = 1_0e2; }\n             ~~~~~~\n"],
  ["BEGIN { @a = 1e0_17; }", "stdin:1:14-20: ERROR: Exponent will overflow integer range: 017\nBEGIN { @a = 1e0_17; }\n             ~~~~~~\nstdin:1:14-21: ERROR: syntax error, unexpected ;\nBEGIN { @a = 1e0_17; }\n             ~~~~~~~\n"],
  ["BEGIN { @a = 09; }", "stdin:1:14-16: ERROR: Found trailing non-numeric characters\nBEGIN { @a = 09; }\n             ~~\nstdin:1:14-17: ERROR: syntax error, unexpected ;\nBEGIN { @a = 09; }\n             ~~~\n"],
  ["BEGIN { @x = count; }", "stdin:1:14-20: ERROR: syntax error, unexpected ;, expecting ++ or --\nBEGIN { @x = count; }\n             ~~~~~~\n"],
  ["BEGIN { $x = printf + 1 }", "stdin:1:21-22: ERROR: syntax error, unexpected +, expecting ++ or --\nBEGIN { $x = printf + 1 }\n                    ~\n"],
  ["BEGIN { ++$x++ }", "stdin:1:9-15: ERROR: syntax error, unexpected ++, expecting }\nBEGIN { ++$x++ }\n        ~~~~~~\n"],
  ["BEGIN { (1)++ }", "stdin:1:9-14: ERROR: syntax error, unexpected ++, expecting }\nBEGIN { (1)++ }\n        ~~~~~\n"],
  ["BEGIN { @x = --1 }", "stdin:1:14-17: ERROR: syntax error, unexpected integer\nBEGIN { @x = --1 }\n             ~~~\n"],
  ["BEGIN { count++ }", "stdin:1:9-14: ERROR: The ++ operator must be applied to a map or variable\nBEGIN { count++ }\n        ~~~~~\n"],
  ["BEGIN { ++pid }", "stdin:1:9-11: ERROR: The ++ operator must be applied to a map or variable\nBEGIN { ++pid }\n        ~~\n"],
  ["BEGIN { @x = (foo) + 1; }", "stdin:1:20-21: ERROR: syntax error, unexpected +\nBEGIN { @x = (foo) + 1; }\n                   ~\n"],
  ["BEGIN { @x = (uint32); }", "stdin:1:14-23: ERROR: syntax error, unexpected ;\nBEGIN { @x = (uint32); }\n             ~~~~~~~~~\n"],
  ["BEGIN { @x = (pid)1; }", "stdin:1:14-20: ERROR: syntax error, unexpected integer, expecting }\nBEGIN { @x = (pid)1; }\n             ~~~~~~\n"],
  ["BEGIN { @x = (uint32 * 1) }", "stdin:1:24-25: ERROR: syntax error, unexpected integer, expecting ) or *\nBEGIN { @x = (uint32 * 1) }\n                       ~\n"],
  ["BEGIN {\n", "stdin:2:1-1: ERROR: syntax error, unexpected end of file, expecting }\n"],
  ["BEGIN {\n  ", "stdin:2:3-3: ERROR: syntax error, unexpected end of file, expecting }\n  \n  \n"],
  ["BEGIN {\r\n @x = }", "stdin:3:7-8: ERROR: syntax error, unexpected }\n @x = }\n      ~\n"],
  ["BEGIN {\t@x\t=\t}", "stdin:1:14-15: ERROR: syntax error, unexpected }\nBEGIN {    @x    =    }\n                      ~\n"],
  ["// x\n", "stdin:1-2: ERROR: unexpected end of file, expected {\n"],
  ["/* x */", "stdin:1:1-8: ERROR: unexpected end of file, expected {\n/* x */\n~~~~~~~\n"],
  ["#define X 1\n", "stdin:1-2: ERROR: unexpected end of file, expected {\n"],
  ["{ }", "stdin:1:1-1: ERROR: No attach points for probe\n{ }\n\n"],
  ["BEGIN {} {}", "stdin:1:1-1: ERROR: No attach points for probe\nBEGIN {} {}\n\n"],
  ["BEGIN { (struct x *) }", "stdin:1:23-24: ERROR: syntax error, unexpected }\nBEGIN { (struct x *) }\n                      \n"],
];

// Syntax bpftrace 0.17 does not have (config, let, for, offsetof, array
// casts...) or where we knowingly differ from it; these texts are ours, in the
// same style. Not checked against bpftrace.
const OURS: [string, string][] = [
  ["config = { max_strlen = }\nBEGIN {}", "stdin:1:25-26: ERROR: syntax error, unexpected }\nconfig = { max_strlen = }\n                        ~\n"],
  ["config = { = 1 }\nBEGIN {}", "stdin:1:12-13: ERROR: syntax error, unexpected =, expecting identifier or }\nconfig = { = 1 }\n           ~\n"],
  ["config = max_strlen\nBEGIN {}", "stdin:1:10-20: ERROR: syntax error, unexpected identifier, expecting {\nconfig = max_strlen\n         ~~~~~~~~~~\n"],
  ["config = { a = 1 b = 2 }\nBEGIN {}", "stdin:1:18-19: ERROR: syntax error, unexpected identifier, expecting ; or }\nconfig = { a = 1 b = 2 }\n                 ~\n"],
  ["config = {a=1}\nconfig = {b=2}\nBEGIN {}", "stdin:2:1-15: ERROR: Only one config block is allowed\nconfig = {b=2}\n~~~~~~~~~~~~~~\n"],
  ["BEGIN { let $x: = 1; }", "stdin:1:17-18: ERROR: syntax error, unexpected =\nBEGIN { let $x: = 1; }\n                ~\n"],
  ["BEGIN { let $x 1; }", "stdin:1:16-17: ERROR: syntax error, unexpected integer, expecting }\nBEGIN { let $x 1; }\n               ~\n"],
  ["BEGIN { for $i : 0..1 {} }", "stdin:1:13-15: ERROR: syntax error, unexpected variable, expecting (\nBEGIN { for $i : 0..1 {} }\n            ~~\n"],
  ["BEGIN { for ($i 0..1) {} }", "stdin:1:17-18: ERROR: syntax error, unexpected integer, expecting :\nBEGIN { for ($i 0..1) {} }\n                ~\n"],
  ["BEGIN { for ($i : 0 1) {} }", "stdin:1:21-22: ERROR: syntax error, unexpected integer, expecting ..\nBEGIN { for ($i : 0 1) {} }\n                    ~\n"],
  ["BEGIN { for (@i : @m) {} }", "stdin:1:13-16: ERROR: syntax error, unexpected map, expecting variable\nBEGIN { for (@i : @m) {} }\n            ~~~\n"],
  ["BEGIN { for ($i : 0..1) }", "stdin:1:25-26: ERROR: syntax error, unexpected }, expecting {\nBEGIN { for ($i : 0..1) }\n                        ~\n"],
  ["BEGIN { $x = offsetof(struct X); }", "stdin:1:30-33: ERROR: syntax error, unexpected ), expecting \",\" or *\nBEGIN { $x = offsetof(struct X); }\n                             ~~~\n"],
  ["BEGIN { $x = offsetof(struct X, ); }", "stdin:1:34-35: ERROR: syntax error, unexpected ), expecting identifier\nBEGIN { $x = offsetof(struct X, ); }\n                                 ~\n"],
  ["BEGIN { $x = sizeof(struct X *; }", "stdin:1:30-33: ERROR: syntax error, unexpected ;, expecting ) or *\nBEGIN { $x = sizeof(struct X *; }\n                             ~~~\n"],
  ["BEGIN { $x = (uint8[x])1; }", "stdin:1:14-25: ERROR: syntax error, unexpected integer, expecting }\nBEGIN { $x = (uint8[x])1; }\n             ~~~~~~~~~~~\n"],
  ["BEGIN { $x = (struct 1)1; }", "stdin:1:22-23: ERROR: syntax error, unexpected integer, expecting identifier\nBEGIN { $x = (struct 1)1; }\n                     ~\n"],
  ["struct X { int a;\nBEGIN {}", "stdin:1-2: ERROR: syntax error, unexpected end of file, expecting }\n"],
  ["BEGIN { ($x) = 1; }", "stdin:1:14-15: ERROR: syntax error, unexpected =, expecting }\nBEGIN { ($x) = 1; }\n             ~\n"],
  ["BEGIN { $x.a = 1; }", "stdin:1:14-15: ERROR: syntax error, unexpected =, expecting }\nBEGIN { $x.a = 1; }\n             ~\n"],
  ["BEGIN { 1 = 2; }", "stdin:1:11-12: ERROR: syntax error, unexpected =, expecting }\nBEGIN { 1 = 2; }\n          ~\n"],
  ["uprobe:\"/bin/bash:readline {}", "stdin:1:8-30: ERROR: unterminated string\nuprobe:\"/bin/bash:readline {}\n       ~~~~~~~~~~~~~~~~~~~~~~\nstdin:1:1-30: ERROR: unexpected end of file, expected {\nuprobe:\"/bin/bash:readline {}\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"],
  ["BEGIN { $ }", "stdin:1:9-10: ERROR: invalid character '$'\nBEGIN { $ }\n        ~\n"],
  ["BEGIN { @x = 'a'; }", "stdin:1:14-15: ERROR: invalid character '''\nBEGIN { @x = 'a'; }\n             ~\nstdin:1:14-17: ERROR: invalid character '''\nBEGIN { @x = 'a'; }\n             ~~~\n"],
  // bpftrace reports each byte of a multi-byte character; we report the character once.
  ["BEGIN { @a = é; }", "stdin:1:14-16: ERROR: invalid character 'é'\nBEGIN { @a = é; }\n             ~~\nstdin:1:14-17: ERROR: syntax error, unexpected ;\nBEGIN { @a = é; }\n             ~~~\n"],
];

test('bad programs print what bpftrace 0.17 prints', () => {
  for (const [src, want] of VERIFIED_017) assert.equal(messageOf(src), want, JSON.stringify(src));
});

test('bad programs in newer syntax get bison-style messages', () => {
  for (const [src, want] of OURS) assert.equal(messageOf(src), want, JSON.stringify(src));
});

test('a script file is named by its path, every diagnostic kept', () => {
  let err: unknown;
  try {
    parse('BEGIN { @a = "\\q"; @b = 08 1 }', 'tools/x.bt');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CompileError);
  assert.equal(err.file, 'tools/x.bt');
  assert.deepEqual(
    err.diagnostics.map((d) => [d.severity, d.message, d.loc && [d.loc.line, d.loc.col, d.loc.endCol]]),
    [
      ['error', "invalid escape character '\\q'", [1, 14, 17]],
      ['error', 'Found trailing non-numeric characters', [1, 25, 27]],
    ],
  );
  assert.match(err.message, /^tools\/x\.bt:1:14-17: ERROR: invalid escape character/);
});

test('only the first syntax error is reported, after the lexical errors met before it', () => {
  const msg = messageOf('BEGIN { @a = "\\q"; @b = ; @c = ; @d = "\\z" }');
  assert.equal(msg.match(/ERROR/g)?.length, 2);
  assert.match(msg, /invalid escape character '\\q'[\s\S]*unexpected ;/);
});
