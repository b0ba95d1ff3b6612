// Bad programs and the exact diagnostics they get: bpftrace's format
// (`stdin:L:C-C: ERROR: ...`, the source line, the ~~~ marker), exit code 1,
// nothing attached. Where Debian's bpftrace 0.17 reports the same error (bt)
// its stderr is required to be the same, byte for byte; the others are
// errors of the newer language or ones bpfkit words on its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { BPFKIT, haveBpftrace } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';

interface Bad {
  name: string;
  prog: string;
  /** Exact stderr. */
  expect: string;
  /** bpftrace 0.17 prints the same. */
  bt?: boolean;
}

const cases: Bad[] = [
  { name: 'unknown function', prog: 'BEGIN { foo(); }', bt: true, expect: 'stdin:1:9-12: ERROR: Unknown function: foo\nBEGIN { foo(); }\n        ~~~\n' },
  { name: 'unknown identifier', prog: 'BEGIN { printf("%d\\n", nosuch); }', bt: true, expect: 'stdin:1:24-30: ERROR: Unknown identifier: \'nosuch\'\nBEGIN { printf("%d\\n", nosuch); }\n                       ~~~~~~\n' },
  { name: 'undefined variable', prog: 'BEGIN { $x = $y; }', bt: true, expect: 'stdin:1:14-16: ERROR: Undefined or undeclared variable: $y\nBEGIN { $x = $y; }\n             ~~\n' },
  { name: 'undefined map, with bpftrace\'s follow-up errors', prog: 'BEGIN { $x = @nosuch; }', bt: true, expect: 'stdin:1:14-21: ERROR: Undefined map: @nosuch\nBEGIN { $x = @nosuch; }\n             ~~~~~~~\nstdin:1:12-13: ERROR: Undefined variable: $x\nBEGIN { $x = @nosuch; }\n           ~\nstdin:1:14-21: ERROR: Invalid expression for assignment: none\nBEGIN { $x = @nosuch; }\n             ~~~~~~~\n' },
  { name: 'undefined map in print', prog: 'BEGIN { print(@nosuch); }', bt: true, expect: 'stdin:1:9-22: ERROR: Undefined map: @nosuch\nBEGIN { print(@nosuch); }\n        ~~~~~~~~~~~~~\n' },
  { name: 'count() with an argument', prog: 'BEGIN { @x = count(1); }', bt: true, expect: 'stdin:1:14-22: ERROR: count() requires no arguments (1 provided)\nBEGIN { @x = count(1); }\n             ~~~~~~~~\n' },
  { name: 'sum() with two arguments', prog: 'BEGIN { @a = sum(1, 2); }', bt: true, expect: 'stdin:1:14-23: ERROR: sum() requires one argument (2 provided)\nBEGIN { @a = sum(1, 2); }\n             ~~~~~~~~~\n' },
  { name: 'avg() without arguments', prog: 'BEGIN { @x = avg(); }', bt: true, expect: 'stdin:1:14-19: ERROR: avg() requires one argument (0 provided)\nBEGIN { @x = avg(); }\n             ~~~~~\n' },
  { name: 'lhist() with three arguments', prog: 'BEGIN { @x = lhist(1, 0, 10); }', bt: true, expect: 'stdin:1:14-29: ERROR: lhist() requires 4 arguments (3 provided)\nBEGIN { @x = lhist(1, 0, 10); }\n             ~~~~~~~~~~~~~~~\n' },
  { name: 'str() without arguments', prog: 'BEGIN { $x = str(); }', bt: true, expect: 'stdin:1:14-19: ERROR: str() requires at least one argument (0 provided)\nBEGIN { $x = str(); }\n             ~~~~~\n' },
  { name: 'strncmp() with two arguments', prog: 'BEGIN { $x = strncmp("a", "b"); }', bt: true, expect: 'stdin:1:14-31: ERROR: strncmp() requires 3 arguments (2 provided)\nBEGIN { $x = strncmp("a", "b"); }\n             ~~~~~~~~~~~~~~~~~\n' },
  { name: 'print() without arguments', prog: 'BEGIN { print(); }', bt: true, expect: 'stdin:1:9-16: ERROR: print() requires at least one argument (0 provided)\nBEGIN { print(); }\n        ~~~~~~~\n' },
  { name: 'zero() without arguments', prog: 'BEGIN { zero(); }', bt: true, expect: 'stdin:1:9-15: ERROR: zero() requires one argument (0 provided)\nBEGIN { zero(); }\n        ~~~~~~\n' },
  { name: 'clear() with two arguments', prog: 'BEGIN { @x = 1; clear(@x, 1); }', bt: true, expect: 'stdin:1:17-29: ERROR: clear() requires one argument (2 provided)\nBEGIN { @x = 1; clear(@x, 1); }\n                ~~~~~~~~~~~~\n' },
  { name: 'ntop() with three arguments', prog: 'BEGIN { $x = ntop(1, 2, 3); }', bt: true, expect: 'stdin:1:14-27: ERROR: ntop() takes up to 2 arguments (3 provided)\nBEGIN { $x = ntop(1, 2, 3); }\n             ~~~~~~~~~~~~~\n' },
  { name: 'join() with three arguments', prog: 'BEGIN { join(1, 2, 3); }', bt: true, expect: 'stdin:1:9-22: ERROR: join() takes up to 2 arguments (3 provided)\nBEGIN { join(1, 2, 3); }\n        ~~~~~~~~~~~~~\n' },
  { name: 'cat() without arguments', prog: 'BEGIN { cat(); }', bt: true, expect: 'stdin:1:9-14: ERROR: cat() requires at least one argument (0 provided)\nBEGIN { cat(); }\n        ~~~~~\n' },
  { name: 'buf() without arguments', prog: 'BEGIN { $x = buf(); }', bt: true, expect: 'stdin:1:14-19: ERROR: buf() requires at least one argument (0 provided)\nBEGIN { $x = buf(); }\n             ~~~~~\n' },
  { name: 'hist() without arguments', prog: 'BEGIN { @x = hist(); }', expect: 'stdin:1:14-20: ERROR: hist() requires at least one argument (0 provided)\nBEGIN { @x = hist(); }\n             ~~~~~~\n' },
  { name: 'sum() of a string', prog: 'BEGIN { @x = sum("a"); }', bt: true, expect: 'stdin:1:14-22: ERROR: sum() only supports integer arguments (string provided)\nBEGIN { @x = sum("a"); }\n             ~~~~~~~~\n' },
  { name: 'min() of a string', prog: 'BEGIN { @x = min("a"); }', bt: true, expect: 'stdin:1:14-22: ERROR: min() only supports integer arguments (string provided)\nBEGIN { @x = min("a"); }\n             ~~~~~~~~\n' },
  { name: 'stats() of a string', prog: 'BEGIN { @x = stats("a"); }', bt: true, expect: 'stdin:1:14-24: ERROR: stats() only supports integer arguments (string provided)\nBEGIN { @x = stats("a"); }\n             ~~~~~~~~~~\n' },
  { name: 'bswap() of a string', prog: 'BEGIN { $x = bswap("a"); }', bt: true, expect: 'stdin:1:14-24: ERROR: bswap() only supports integer arguments (string provided)\nBEGIN { $x = bswap("a"); }\n             ~~~~~~~~~~\n' },
  { name: 'strerror() of a string', prog: 'BEGIN { $x = strerror("a"); }', bt: true, expect: 'stdin:1:14-27: ERROR: strerror() only supports integer arguments (string provided)\nBEGIN { $x = strerror("a"); }\n             ~~~~~~~~~~~~~\n' },
  { name: 'cgroup_path() of a string', prog: 'BEGIN { $x = cgroup_path("a"); }', bt: true, expect: 'stdin:1:14-30: ERROR: cgroup_path() only supports integer arguments (string provided)\nBEGIN { $x = cgroup_path("a"); }\n             ~~~~~~~~~~~~~~~~\n' },
  { name: 'str() with a string length', prog: 'BEGIN { $x = str(1, "a"); }', bt: true, expect: 'stdin:1:14-25: ERROR: str() only supports integer arguments (string provided)\nBEGIN { $x = str(1, "a"); }\n             ~~~~~~~~~~~\n' },
  { name: 'ksym() of a string', prog: 'BEGIN { $x = ksym("a"); }', bt: true, expect: 'stdin:1:14-23: ERROR: ksym() expects an integer or pointer argument\nBEGIN { $x = ksym("a"); }\n             ~~~~~~~~~\n' },
  { name: 'usym() of a string', prog: 'BEGIN { $x = usym("a"); }', bt: true, expect: 'stdin:1:14-23: ERROR: usym() expects an integer or pointer argument\nBEGIN { $x = usym("a"); }\n             ~~~~~~~~~\n' },
  { name: 'kaddr() of an integer', prog: 'BEGIN { $x = kaddr(1); }', bt: true, expect: 'stdin:1:14-22: ERROR: kaddr() expects a string literal (integer provided)\nBEGIN { $x = kaddr(1); }\n             ~~~~~~~~\n' },
  { name: 'cgroupid() of an integer', prog: 'BEGIN { $x = cgroupid(1); }', bt: true, expect: 'stdin:1:14-25: ERROR: cgroupid() expects a string literal (integer provided)\nBEGIN { $x = cgroupid(1); }\n             ~~~~~~~~~~~\n' },
  { name: 'time() of an integer', prog: 'BEGIN { time(1); }', bt: true, expect: 'stdin:1:9-16: ERROR: time() expects a string literal (integer provided)\nBEGIN { time(1); }\n        ~~~~~~~\n' },
  { name: 'strftime() with an integer format', prog: 'BEGIN { strftime(1, 2); }', bt: true, expect: 'stdin:1:9-23: ERROR: strftime() expects a string literal (integer provided)\nBEGIN { strftime(1, 2); }\n        ~~~~~~~~~~~~~~\n' },
  { name: 'cat() of an integer', prog: 'BEGIN { cat(1); }', bt: true, expect: 'stdin:1:9-15: ERROR: cat() expects a string literal (integer provided)\nBEGIN { cat(1); }\n        ~~~~~~\n' },
  { name: 'pton() of a bad address', prog: 'BEGIN { $x = pton("nope"); }', bt: true, expect: 'stdin:1:14-26: ERROR: pton() expects an string argument of an IPv4/IPv6 address, got nope\nBEGIN { $x = pton("nope"); }\n             ~~~~~~~~~~~~\n' },
  { name: 'exit() of a string', prog: 'BEGIN { exit("a"); }', expect: 'stdin:1:9-18: ERROR: exit() only supports integer arguments (string provided)\nBEGIN { exit("a"); }\n        ~~~~~~~~~\n' },
  { name: 'map type mismatch', prog: 'BEGIN { @x = 1; @x = "str"; }', bt: true, expect: 'stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type \'string[4]\' when map already contains a value of type \'int64\nBEGIN { @x = 1; @x = "str"; }\n                ~~\n' },
  { name: 'map assigned an aggregation after a value', prog: 'BEGIN { @x = 1; @x = count(); }', bt: true, expect: 'stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type \'count\' when map already contains a value of type \'int64\nBEGIN { @x = 1; @x = count(); }\n                ~~\n' },
  { name: 'two aggregations in one map', prog: 'BEGIN { @x = count(); @x = sum(1); }', bt: true, expect: 'stdin:1:23-25: ERROR: Type mismatch for @x: trying to assign value of type \'sum\' when map already contains a value of type \'count\nBEGIN { @x = count(); @x = sum(1); }\n                      ~~\n' },
  { name: 'map key type mismatch', prog: 'BEGIN { @x[1] = 1; @x["a"] = 2; }', bt: true, expect: 'stdin:1:20-27: ERROR: Argument mismatch for @x: trying to access with arguments: [string[2]] when map expects arguments: [unsigned int64]\nBEGIN { @x[1] = 1; @x["a"] = 2; }\n                   ~~~~~~~\n' },
  { name: 'map key count mismatch', prog: 'BEGIN { @x[1] = 1; @x[1, 2] = 2; }', bt: true, expect: 'stdin:1:20-28: ERROR: Argument mismatch for @x: trying to access with arguments: [unsigned int64, unsigned int64] when map expects arguments: [unsigned int64]\nBEGIN { @x[1] = 1; @x[1, 2] = 2; }\n                   ~~~~~~~~\n' },
  { name: 'fewer keys than the map has', prog: 'BEGIN { @x[1, 2] = 1; @x[1] = 2; }', bt: true, expect: 'stdin:1:23-28: ERROR: Argument mismatch for @x: trying to access with arguments: [unsigned int64] when map expects arguments: [unsigned int64, unsigned int64]\nBEGIN { @x[1, 2] = 1; @x[1] = 2; }\n                      ~~~~~\n' },
  { name: 'keyed map used as a scalar', prog: 'BEGIN { @x[1] = 1; @y = @x; }', bt: true, expect: 'stdin:1:25-27: ERROR: Argument mismatch for @x: trying to access with arguments: [] when map expects arguments: [unsigned int64]\nBEGIN { @x[1] = 1; @y = @x; }\n                        ~~\n' },
  { name: 'scalar map read with a key', prog: 'BEGIN { @x = 1; $y = @x[1]; }', bt: true, expect: 'stdin:1:22-27: ERROR: Argument mismatch for @x: trying to access with arguments: [unsigned int64] when map expects arguments: []\nBEGIN { @x = 1; $y = @x[1]; }\n                     ~~~~~\n' },
  { name: 'scalar map written with a key', prog: 'BEGIN { @x = 1; @x["a"] = 1; }', bt: true, expect: 'stdin:1:17-24: ERROR: Argument mismatch for @x: trying to access with arguments: [string[2]] when map expects arguments: []\nBEGIN { @x = 1; @x["a"] = 1; }\n                ~~~~~~~\n' },
  { name: 'count() not assigned to a map', prog: 'BEGIN { count(); }', bt: true, expect: 'stdin:1:9-16: ERROR: count() should be directly assigned to a map\nBEGIN { count(); }\n        ~~~~~~~\n' },
  { name: 'printf of a hist() map', prog: 'BEGIN { @h = hist(5); printf("%d\\n", @h); }', bt: true, expect: 'stdin:1:23-41: ERROR: printf: %d specifier expects a value of type integer (hist supplied)\nBEGIN { @h = hist(5); printf("%d\\n", @h); }\n                      ~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf of an lhist() map', prog: 'BEGIN { @h = lhist(1,0,10,1); printf("%d\\n", @h); }', bt: true, expect: 'stdin:1:31-49: ERROR: printf: %d specifier expects a value of type integer (lhist supplied)\nBEGIN { @h = lhist(1,0,10,1); printf("%d\\n", @h); }\n                              ~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf of a count() map', prog: 'BEGIN { @c = count(); printf("%s %d\\n", "a", @c); }', bt: true, expect: 'stdin:1:23-49: ERROR: printf: %d specifier expects a value of type integer (count supplied)\nBEGIN { @c = count(); printf("%s %d\\n", "a", @c); }\n                      ~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf %s of a keyed count() map', prog: 'BEGIN { @c[1] = count(); printf("%s\\n", @c[1]); }', bt: true, expect: 'stdin:1:26-47: ERROR: printf: %s specifier expects a value of type string (count supplied)\nBEGIN { @c[1] = count(); printf("%s\\n", @c[1]); }\n                         ~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf of a sum() map', prog: 'BEGIN { @c = sum(1); printf("%d\\n", @c); }', bt: true, expect: 'stdin:1:22-40: ERROR: printf: %d specifier expects a value of type integer (sum supplied)\nBEGIN { @c = sum(1); printf("%d\\n", @c); }\n                     ~~~~~~~~~~~~~~~~~~\n' },
  { name: 'sizeof of an unknown struct', prog: 'BEGIN { $x = sizeof(struct nosuch); }', bt: true, expect: 'stdin:1:14-35: ERROR: Unknown identifier: \'struct nosuch\'\nBEGIN { $x = sizeof(struct nosuch); }\n             ~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'sizeof of an unknown type name', prog: 'BEGIN { $x = sizeof(nosuch); }', bt: true, expect: 'stdin:1:14-27: ERROR: Unknown identifier: \'nosuch\'\nBEGIN { $x = sizeof(nosuch); }\n             ~~~~~~~~~~~~~\n' },
  { name: 'sizeof of an unknown struct, spaced, in print', prog: 'BEGIN { print(sizeof(struct  nosuch )); }', bt: true, expect: 'stdin:1:9-38: ERROR: Unknown identifier: \'struct nosuch\'\nBEGIN { print(sizeof(struct  nosuch )); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'count map in arithmetic with a string', prog: 'BEGIN { @x = count(); $y = @x + "a"; }', bt: true, expect: 'stdin:1:28-36: ERROR: Type mismatch for \'+\': comparing \'count\' with \'string[2]\'\nBEGIN { @x = count(); $y = @x + "a"; }\n                           ~~~~~~~~\n' },
  { name: 'lhist() with a negative min', prog: 'BEGIN { @x = lhist(1, -1, 10, 1); }', bt: true, expect: 'stdin:1:14-33: ERROR: lhist() min must be non-negative (provided min -1)\nBEGIN { @x = lhist(1, -1, 10, 1); }\n             ~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'lhist() with a zero step', prog: 'BEGIN { @x = lhist(1, 0, 10, 0); }', bt: true, expect: 'stdin:1:14-32: ERROR: lhist() step must be >= 1 (0 provided)\nBEGIN { @x = lhist(1, 0, 10, 0); }\n             ~~~~~~~~~~~~~~~~~~\n' },
  { name: 'lhist() with min above max', prog: 'BEGIN { @x = lhist(1, 10, 0, 1); }', bt: true, expect: 'stdin:1:14-32: ERROR: lhist() min must be less than max (provided min 10 and max 0)\nBEGIN { @x = lhist(1, 10, 0, 1); }\n             ~~~~~~~~~~~~~~~~~~\nstdin:1:14-32: ERROR: lhist() step is too large for the given range (provided step 1 for range -10)\nBEGIN { @x = lhist(1, 10, 0, 1); }\n             ~~~~~~~~~~~~~~~~~~\n' },
  { name: 'lhist() with too many buckets', prog: 'BEGIN { @x = lhist(1, 0, 1000000, 1); }', bt: true, expect: 'stdin:1:14-37: ERROR: lhist() too many buckets, must be <= 1000 (would need 1000000)\nBEGIN { @x = lhist(1, 0, 1000000, 1); }\n             ~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: not enough arguments', prog: 'BEGIN { printf("%d\\n"); }', bt: true, expect: 'stdin:1:9-23: ERROR: printf: Not enough arguments for format string (0 supplied, 1 expected)\nBEGIN { printf("%d\\n"); }\n        ~~~~~~~~~~~~~~\n' },
  { name: 'printf: too many arguments', prog: 'BEGIN { printf("%d\\n", 1, 2); }', bt: true, expect: 'stdin:1:9-29: ERROR: printf: Too many arguments for format string (2 supplied, 1 expected)\nBEGIN { printf("%d\\n", 1, 2); }\n        ~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: %s of an integer', prog: 'BEGIN { printf("%s\\n", 1); }', bt: true, expect: 'stdin:1:9-26: ERROR: printf: %s specifier expects a value of type string (integer supplied)\nBEGIN { printf("%s\\n", 1); }\n        ~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: %d of a string', prog: 'BEGIN { printf("%d\\n", "str"); }', bt: true, expect: 'stdin:1:9-30: ERROR: printf: %d specifier expects a value of type integer (string supplied)\nBEGIN { printf("%d\\n", "str"); }\n        ~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: %r of an integer', prog: 'BEGIN { printf("%r\\n", 1); }', bt: true, expect: 'stdin:1:9-26: ERROR: printf: %r specifier expects a value of type buffer (integer supplied)\nBEGIN { printf("%r\\n", 1); }\n        ~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: %d of a tuple', prog: 'BEGIN { printf("%d\\n", (1, 2)); }', bt: true, expect: 'stdin:1:9-31: ERROR: printf: %d specifier expects a value of type integer (tuple supplied)\nBEGIN { printf("%d\\n", (1, 2)); }\n        ~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'printf: format not a literal', prog: 'BEGIN { printf(1); }', bt: true, expect: 'stdin:1:9-18: ERROR: printf() expects a string literal (integer provided)\nBEGIN { printf(1); }\n        ~~~~~~~~~\n' },
  { name: 'printf: format from a variable', prog: 'BEGIN { $fmt = "x"; printf($fmt); }', bt: true, expect: 'stdin:1:21-33: ERROR: printf() expects a string literal (string provided)\nBEGIN { $fmt = "x"; printf($fmt); }\n                    ~~~~~~~~~~~~\n' },
  { name: 'printf: two conversions, one argument', prog: 'BEGIN { printf("%s %s\\n", "a"); }', bt: true, expect: 'stdin:1:9-31: ERROR: printf: Not enough arguments for format string (1 supplied, 2 expected)\nBEGIN { printf("%s %s\\n", "a"); }\n        ~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'missing tracepoint', prog: 'tracepoint:syscalls:nosuch { }', bt: true, expect: 'stdin:1:1-27: ERROR: tracepoint not found: syscalls:nosuch\ntracepoint:syscalls:nosuch { }\n~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'missing tracepoint category', prog: 'tracepoint:nosuchcat:nosuch { }', bt: true, expect: 'stdin:1:1-28: ERROR: tracepoint not found: nosuchcat:nosuch\ntracepoint:nosuchcat:nosuch { }\n~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'bad interval unit', prog: 'interval:xs:1 { }', bt: true, expect: 'stdin:1:1-14: ERROR: xs is not an accepted unit of time\ninterval:xs:1 { }\n~~~~~~~~~~~~~\n' },
  { name: 'uprobe on a missing file', prog: 'uprobe:/nonexistent:main { }', bt: true, expect: 'stdin:1:1-25: ERROR: uprobe target file \'/nonexistent\' does not exist or is not executable\nuprobe:/nonexistent:main { }\n~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  // bpftrace 0.17 has no rawtracepoint provider (it stops with "Invalid probe
  // type made it to attachpoint parser"); newer versions take the event and
  // its arguments from BTF (`btf_trace_<event>`), which bpfkit checks at
  // compile time in the style of 0.17's tracepoint errors.
  { name: 'missing raw tracepoint', prog: 'rawtracepoint:nosuch {}', expect: 'stdin:1:1-21: ERROR: rawtracepoint not found: nosuch\nrawtracepoint:nosuch {}\n~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'missing raw tracepoint with a module', prog: 'rawtracepoint:vmlinux:nosuch {}', expect: 'stdin:1:1-29: ERROR: rawtracepoint not found: vmlinux:nosuch\nrawtracepoint:vmlinux:nosuch {}\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'raw tracepoint argument past its prototype', prog: 'rawtracepoint:sys_enter { print(arg9); }', expect: 'stdin:1:27-37: ERROR: rawtracepoint:sys_enter has 2 arguments (arg0 to arg1): arg9 is out of range\nrawtracepoint:sys_enter { print(arg9); }\n                          ~~~~~~~~~~\n' },
  { name: 'raw tracepoint argument just past its prototype', prog: 'rt:sys_enter { $x = arg2; }', expect: 'stdin:1:21-25: ERROR: rawtracepoint:sys_enter has 2 arguments (arg0 to arg1): arg2 is out of range\nrt:sys_enter { $x = arg2; }\n                    ~~~~\n' },
  { name: 'debugf() with four conversions, after its warning', prog: 'BEGIN { debugf("x %d %d %d %d\\n", 1,2,3,4); exit(); }', bt: true, expect: 'stdin:1:9-43: WARNING: The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).\nBEGIN { debugf("x %d %d %d %d\\n", 1,2,3,4); exit(); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\nstdin:1:9-43: ERROR: debugf: Cannot use more than 3 conversion specifiers\nBEGIN { debugf("x %d %d %d %d\\n", 1,2,3,4); exit(); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  // `let` (newer bpftrace; a syntax error in 0.17) declares a variable for the rest of its block.
  { name: 'let variable used after its block', prog: 'BEGIN { if (1) { let $x = 1; print($x); } print($x); }', expect: 'stdin:1:43-51: ERROR: Undefined or undeclared variable: $x\nBEGIN { if (1) { let $x = 1; print($x); } print($x); }\n                                          ~~~~~~~~\n' },
  { name: 'let variable used in the else branch', prog: 'BEGIN { if (1) { let $x = 1; } else { $y = $x + 1; } }', expect: 'stdin:1:44-46: ERROR: Undefined or undeclared variable: $x\nBEGIN { if (1) { let $x = 1; } else { $y = $x + 1; } }\n                                           ~~\n' },
  { name: 'let variable of a loop body used after the loop', prog: 'BEGIN { $i = 0; while ($i < 2) { let $t = $i; $i++; } $u = $t; }', expect: 'stdin:1:60-62: ERROR: Undefined or undeclared variable: $t\nBEGIN { $i = 0; while ($i < 2) { let $t = $i; $i++; } $u = $t; }\n                                                           ~~\n' },
  { name: 'let shadowing an outer let', prog: 'BEGIN { let $x = 1; if (1) { let $x = 2; } }', expect: 'stdin:1:30-40: ERROR: Variable $x was already declared. Variable shadowing is not allowed.\nBEGIN { let $x = 1; if (1) { let $x = 2; } }\n                             ~~~~~~~~~~\n' },
  { name: 'let of an assigned variable', prog: 'BEGIN { $x = 1; let $x = 2; }', expect: 'stdin:1:17-27: ERROR: Variable $x was already declared. Variable shadowing is not allowed.\nBEGIN { $x = 1; let $x = 2; }\n                ~~~~~~~~~~\n' },
  { name: 'type error on a block-scoped let names it as written', prog: 'BEGIN { if (1) { let $x = 1; $x = "s"; } }', expect: 'stdin:1:33-34: ERROR: Type mismatch for $x: trying to assign value of type \'string[2]\' when variable already contains a value of type \'int64\'\nBEGIN { if (1) { let $x = 1; $x = "s"; } }\n                                ~\n' },
  { name: 'debugf() with %c', prog: 'BEGIN { debugf("%c %p\\n", 65, 4096); exit(); }', bt: true, expect: 'stdin:1:9-36: WARNING: The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).\nBEGIN { debugf("%c %p\\n", 65, 4096); exit(); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~\nstdin:1:9-36: ERROR: debugf: Unknown format string token: %c\nBEGIN { debugf("%c %p\\n", 65, 4096); exit(); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'unknown provider', prog: 'nosuch:foo { }', expect: 'stdin:1:1-11: ERROR: Invalid provider: \'nosuch\'\nnosuch:foo { }\n~~~~~~~~~~\n' },
  { name: 'args field that does not exist', prog: 'tracepoint:syscalls:sys_enter_openat { printf("%d\\n", args->nosuch); }', bt: true, expect: 'stdin:1:55-67: ERROR: Struct/union of type \'struct _tracepoint_syscalls_sys_enter_openat\' does not contain a field named \'nosuch\'\ntracepoint:syscalls:sys_enter_openat { printf("%d\\n", args->nosuch); }\n                                                      ~~~~~~~~~~~~\n' },
  { name: 'args in BEGIN', prog: 'BEGIN { printf("%s\\n", args.foo); }', bt: true, expect: 'stdin:1:24-28: ERROR: The args builtin can only be used with tracepoint/kfunc/uprobeprobes (special used here)\nBEGIN { printf("%s\\n", args.foo); }\n                       ~~~~\n' },
  { name: 'arg0 in BEGIN', prog: 'BEGIN { printf("%d\\n", arg0); }', bt: true, expect: 'stdin:1:24-28: ERROR: The arg0 builtin can only be used with \'kprobes\', \'uprobes\' and \'usdt\' probes\nBEGIN { printf("%d\\n", arg0); }\n                       ~~~~\n' },
  { name: 'retval in BEGIN', prog: 'BEGIN { printf("%d\\n", retval); }', bt: true, expect: 'stdin:1:24-30: ERROR: The retval builtin can only be used with \'kretprobe\' and \'uretprobe\' and \'kfunc\' probes\nBEGIN { printf("%d\\n", retval); }\n                       ~~~~~~\n' },
  { name: 'func in BEGIN', prog: 'BEGIN { printf("%s\\n", func); }', bt: true, expect: 'stdin:1:24-28: ERROR: The func builtin can not be used with \'BEGIN\' probes\nBEGIN { printf("%s\\n", func); }\n                       ~~~~\n' },
  { name: 'system() without --unsafe', prog: 'BEGIN { system("ls"); }', bt: true, expect: 'stdin:1:9-21: ERROR: system() is an unsafe function being used in safe mode\nBEGIN { system("ls"); }\n        ~~~~~~~~~~~~\n' },
  { name: 'signal() without --unsafe, in BEGIN, unknown signal', prog: 'BEGIN { signal("SIGFOO"); }', bt: true, expect: 'stdin:1:9-25: ERROR: signal() is an unsafe function being used in safe mode\nBEGIN { signal("SIGFOO"); }\n        ~~~~~~~~~~~~~~~~\nstdin:1:9-25: ERROR: signal can not be used with "BEGIN" probes\nBEGIN { signal("SIGFOO"); }\n        ~~~~~~~~~~~~~~~~\nstdin:1:9-25: ERROR: SIGFOO is not a valid signal\nBEGIN { signal("SIGFOO"); }\n        ~~~~~~~~~~~~~~~~\n' },
  { name: 'break outside a loop', prog: 'BEGIN { break; }', bt: true, expect: 'stdin:1:9-14: ERROR: break used outside of a loop\nBEGIN { break; }\n        ~~~~~\n' },
  { name: 'continue outside a loop', prog: 'BEGIN { continue; }', bt: true, expect: 'stdin:1:9-17: ERROR: continue used outside of a loop\nBEGIN { continue; }\n        ~~~~~~~~\n' },
  { name: 'unroll above 100', prog: 'BEGIN { unroll(200) { } }', bt: true, expect: 'stdin:1:9-20: ERROR: unroll maximum value is 100\nBEGIN { unroll(200) { } }\n        ~~~~~~~~~~~\n' },
  { name: 'unroll of 0', prog: 'BEGIN { unroll(0) { } }', bt: true, expect: 'stdin:1:9-18: ERROR: unroll minimum value is 1\nBEGIN { unroll(0) { } }\n        ~~~~~~~~~\n' },
  { name: 'string condition in a predicate', prog: 'BEGIN /"a"/ { }', bt: true, expect: 'stdin:1:7-12: ERROR: Invalid type for predicate: string\nBEGIN /"a"/ { }\n      ~~~~~\n' },
  { name: 'string condition in if', prog: 'BEGIN { if ("a") { } }', bt: true, expect: 'stdin:1:1-1: ERROR: Invalid condition in if(): string\nBEGIN { if ("a") { } }\n\n' },
  { name: 'string condition in a ternary', prog: 'BEGIN { $x = "a" ? 1 : 2; }', bt: true, expect: 'stdin:1:14-25: ERROR: Invalid condition in ternary: string\nBEGIN { $x = "a" ? 1 : 2; }\n             ~~~~~~~~~~~\n' },
  { name: 'ternary branches of different types', prog: 'BEGIN { $x = 1 ? 1 : "a"; }', bt: true, expect: 'stdin:1:14-25: ERROR: Ternary operator must return the same type: have \'integer\' and \'string\'\nBEGIN { $x = 1 ? 1 : "a"; }\n             ~~~~~~~~~~~\n' },
  { name: 'variable type mismatch', prog: 'BEGIN { $x = 1; $x = "a"; }', bt: true, expect: 'stdin:1:20-21: ERROR: Type mismatch for $x: trying to assign value of type \'string[2]\' when variable already contains a value of type \'int64\'\nBEGIN { $x = 1; $x = "a"; }\n                   ~\n' },
  { name: 'variable type mismatch across branches', prog: 'BEGIN { if (1) { $x = 1; } else { $x = "a"; } }', bt: true, expect: 'stdin:1:38-39: ERROR: Type mismatch for $x: trying to assign value of type \'string[2]\' when variable already contains a value of type \'int64\'\nBEGIN { if (1) { $x = 1; } else { $x = "a"; } }\n                                     ~\n' },
  { name: 'tuple type mismatch', prog: 'BEGIN { $t = (1, 2); $t = (1, "a"); }', bt: true, expect: 'stdin:1:25-26: ERROR: Tuple type mismatch: (int64,int64) != (int64,string[2]).\nBEGIN { $t = (1, 2); $t = (1, "a"); }\n                        ~\n' },
  { name: 'integer plus string', prog: 'BEGIN { $x = 1 + "a"; }', bt: true, expect: 'stdin:1:14-21: ERROR: Type mismatch for \'+\': comparing \'int64\' with \'string[2]\'\nBEGIN { $x = 1 + "a"; }\n             ~~~~~~~\n' },
  { name: 'integer compared with string', prog: 'BEGIN { $x = 1 == "a"; }', bt: true, expect: 'stdin:1:14-22: ERROR: Type mismatch for \'==\': comparing \'int64\' with \'string[2]\'\nBEGIN { $x = 1 == "a"; }\n             ~~~~~~~~\n' },
  { name: '! of a string', prog: 'BEGIN { $x = !"a"; }', bt: true, expect: 'stdin:1:14-15: ERROR: The ! operator can not be used on expressions of type \'string[2]\'\nBEGIN { $x = !"a"; }\n             ~\n' },
  { name: '++ of a string variable', prog: 'BEGIN { $s = "a"; $s++; }', bt: true, expect: 'stdin:1:19-23: ERROR: The ++ operator can not be used on expressions of type \'string[2]\'\nBEGIN { $s = "a"; $s++; }\n                  ~~~~\n' },
  { name: '++ of a string map', prog: 'BEGIN { @x = "a"; @x++; }', bt: true, expect: 'stdin:1:19-23: ERROR: The ++ operator can not be used on expressions of type \'string[2]\'\nBEGIN { @x = "a"; @x++; }\n                  ~~~~\n' },
  { name: 'tuple index out of range', prog: 'BEGIN { $x = (1, 2); $y = $x.5; }', bt: true, expect: 'stdin:1:27-31: ERROR: Invalid tuple index: 5. Found 2 elements in tuple.\nBEGIN { $x = (1, 2); $y = $x.5; }\n                          ~~~~\nstdin:1:25-26: ERROR: Undefined variable: $y\nBEGIN { $x = (1, 2); $y = $x.5; }\n                        ~\nstdin:1:27-31: ERROR: Invalid expression for assignment: none\nBEGIN { $x = (1, 2); $y = $x.5; }\n                          ~~~~\n' },
  { name: 'tuple index on an integer', prog: 'BEGIN { $x = 1; $x.0; }', bt: true, expect: 'stdin:1:17-21: ERROR: Can not access index 0 on expression of type \'int64\'\nBEGIN { $x = 1; $x.0; }\n                ~~~~\n' },
  { name: 'tuple indexed by a name', prog: 'BEGIN { $x = (1, 2); $y = $x.a; }', bt: true, expect: 'stdin:1:27-30: ERROR: Tuples must be indexed with a constant and non-negative integer\nBEGIN { $x = (1, 2); $y = $x.a; }\n                          ~~~\n' },
  { name: 'cast of a string', prog: 'BEGIN { $a = (int8)"a"; }', bt: true, expect: 'stdin:1:14-20: ERROR: Casts are not supported for type: "string[2]"\nBEGIN { $a = (int8)"a"; }\n             ~~~~~~\n' },
  { name: 'cast to an unknown struct', prog: 'BEGIN { $x = (struct nosuch *)0; }', bt: true, expect: 'stdin:1:14-31: ERROR: Unknown struct/union: \'struct nosuch\'\nBEGIN { $x = (struct nosuch *)0; }\n             ~~~~~~~~~~~~~~~~~\n' },
  { name: 'unknown struct field through BTF', prog: 'BEGIN { $x = ((struct task_struct *)curtask)->nosuchfield; }', bt: true, expect: 'stdin:1:14-59: ERROR: Struct/union of type \'struct task_struct\' does not contain a field named \'nosuchfield\'\nBEGIN { $x = ((struct task_struct *)curtask)->nosuchfield; }\n             ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'unknown curtask field', prog: 'BEGIN { $x = curtask->nosuch; }', bt: true, expect: 'stdin:1:14-29: ERROR: Struct/union of type \'struct task_struct\' does not contain a field named \'nosuch\'\nBEGIN { $x = curtask->nosuch; }\n             ~~~~~~~~~~~~~~~\n' },
  { name: 'syntax error', prog: 'BEGIN { $x = 1; $x(); }', bt: true, expect: 'stdin:1:17-20: ERROR: syntax error, unexpected (, expecting }\nBEGIN { $x = 1; $x(); }\n                ~~~\n' },
  { name: 'for range over strings', prog: 'BEGIN { for ($i : "a".."b") { } }', expect: 'stdin:1:9-28: ERROR: Loop range requires integer expressions\nBEGIN { for ($i : "a".."b") { } }\n        ~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'for over an undefined map', prog: 'BEGIN { for ($kv : @nosuch) { } }', expect: 'stdin:1:20-27: ERROR: Undefined map: @nosuch\nBEGIN { for ($kv : @nosuch) { } }\n                   ~~~~~~~\n' },
  { name: 'unknown config variable', prog: 'config = { nosuch = 1 } BEGIN { }', expect: 'stdin:1:12-22: ERROR: Unrecognized config variable: nosuch\nconfig = { nosuch = 1 } BEGIN { }\n           ~~~~~~~~~~\n' },
  { name: 'break outside a loop, after a for', prog: 'BEGIN { for ($i : 0..2) { } break; }', expect: 'stdin:1:29-34: ERROR: break used outside of a loop\nBEGIN { for ($i : 0..2) { } break; }\n                            ~~~~~\n' },
  { name: 'strcontains() with a non-literal needle', prog: 'BEGIN { $n = "a"; $x = strcontains("abc", $n); }', expect: 'stdin:1:24-46: ERROR: strcontains() needs a string literal as its second argument\nBEGIN { $n = "a"; $x = strcontains("abc", $n); }\n                       ~~~~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'has_key() on a non-map', prog: 'BEGIN { $x = has_key(1, 2); }', expect: 'stdin:1:14-27: ERROR: has_key() expects a map to be provided\nBEGIN { $x = has_key(1, 2); }\n             ~~~~~~~~~~~~~\n' },
  { name: 'delete() of a hist() key', prog: 'BEGIN { @h[1] = hist(1); delete(@h[1]); }', expect: 'stdin:1:26-39: ERROR: delete() of one key of a hist() map is not supported\nBEGIN { @h[1] = hist(1); delete(@h[1]); }\n                         ~~~~~~~~~~~~~\n' },
];

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 20000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number | string }).code as number | null) ?? 1 : 0;
      resolve({ stdout, stderr, code: typeof code === 'number' ? code : 1 });
    });
  });
}

describe('diagnostics of bad programs', { concurrency: 4 }, () => {
  test('the table is large enough', () => {
    assert.ok(cases.length >= 40);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'duplicate names');
  });
  for (const c of cases) {
    test(c.name, async () => {
      const r = await run(process.execPath, [BPFKIT, '-e', c.prog]);
      assert.equal(r.stderr, c.expect, c.prog);
      assert.equal(r.code, 1, c.prog);
      assert.equal(r.stdout, '', `${c.prog}: nothing may be attached`);
      if (c.bt && haveBpftrace() && isRoot()) {
        const b = await run('/usr/bin/bpftrace', ['-e', c.prog]);
        assert.equal(b.stderr.replace(/^.*RLIMIT_MEMLOCK.*\n?/m, ''), c.expect, `bpftrace: ${c.prog}`);
        assert.equal(b.code, 1, `bpftrace: ${c.prog}`);
      }
    });
  }
});
