// Programs parse() must accept, and the shape of the tree for the tricky ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../src/lang/parser.js';
import type { Expr, Program, Stmt, TypeSpec } from '../../src/lang/ast.js';

const GOOD: string[] = [
  // 0.17 one-liners and tools
  'BEGIN { printf("hello\\n"); }',
  'BEGIN { printf("Tracing... Hit Ctrl-C to end.\\n"); } END { clear(@); }',
  'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }',
  'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }',
  'tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }',
  'tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }',
  'kretprobe:vfs_read { @bytes = lhist(retval, 0, 2000, 200); }',
  'kprobe:vfs_read { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); }',
  'tracepoint:sched:sched_process_exec { printf("%-10u %s\\n", pid, comm); }',
  'profile:hz:99 /pid == 189/ { @[ustack] = count(); }',
  'profile:hz:99 { @[kstack] = count(); }',
  'tracepoint:block:block_rq_issue { @ = hist(args->bytes); }',
  'software:faults:1 { @[comm] = count(); }',
  'hardware:cache-misses:1000000 { @[pid] = count(); }',
  'tracepoint:sched:sched_switch { @[kstack] = count(); }',
  'interval:s:1 { print(@); clear(@); }',
  'interval:ms:100 { @n++; if (@n > 10) { exit(); } }',
  'uprobe:/bin/bash:readline { printf("called\\n"); }',
  'uretprobe:/bin/bash:readline { printf("read a line: %s\\n", str(retval)); }',
  'usdt:/usr/lib/libc.so.6:libc:setjmp { @ = count(); }',
  'kprobe:do_nanosleep { printf("%d sleeping\\n", pid); }',
  'kprobe:tcp_* { @[func] = count(); }',
  'kprobe:f+0x10 { @ = count(); }',
  'watchpoint:0x10000000:8:rw { printf("hit\\n"); }',
  'kfunc:vmlinux:vfs_read { @[comm] = count(); }',
  'kretfunc:vfs_read { @ = hist(retval); }',
  'rawtracepoint:sched_switch { @ = count(); }',
  'iter:task { printf("%s\\n", ctx->task->comm); }',
  't:syscalls:sys_enter_* { @[probe] = count(); }',
  'k:vfs_read, kr:vfs_read { @[probe] = count(); }',
  'u:/bin/sh:main, ur:/bin/sh:main { @ = count(); }',
  'p:hz:99 { @ = count(); } i:s:1 { exit(); }',
  's:cpu-clock:1000 { @ = count(); }',
  'h:cycles:1e6 { @ = count(); }',
  'BEGIN, END { printf("%s\\n", probe); }',
  'BEGIN,END{}',
  'kprobe:f, kprobe:g, kprobe:h { }',
  'BEGIN { @[1] = 1; @[2] = 2; print(@, 1); }',
  'BEGIN { @x = 1; @y[1, 2] = 3; @z["a", 1, comm] = pid; }',
  'BEGIN { @ = 1; @[1] = 2; print(@[1]); delete(@[1]); }',
  'BEGIN { $x = 1; $y = $x + 1; printf("%d\\n", $y); }',
  'BEGIN { $t = (1, "two", 3); printf("%d %s\\n", $t.0, $t.1); }',
  'BEGIN { $t = ((1, 2), 3); @ = $t.0.1; }',
  'BEGIN { @ = (1, "a"); }',
  'BEGIN { $x = (uint32)1; $y = (int8)-1; $z = (uint64)$x; }',
  'BEGIN { $p = (struct task_struct *)curtask; @ = $p->pid; }',
  'BEGIN { $p = (struct task_struct *)curtask; @ = $p->parent->real_parent->pid; }',
  'kprobe:vfs_read { $f = (struct file *)arg0; @[str($f->f_path.dentry->d_name.name)] = count(); }',
  'BEGIN { $u = (union bpf_attr *)0; $e = (enum foo)1; }',
  'BEGIN { @ = sizeof(struct task_struct); @a = sizeof(uint32); @b = sizeof($x); @c = sizeof(1 + 2); }',
  'BEGIN { if (pid > 1) { printf("big\\n"); } }',
  'BEGIN { if (pid > 1) { @a = 1; } else { @b = 1; } }',
  'BEGIN { if (pid == 1) { @a = 1; } else if (pid == 2) { @b = 1; } else if (pid == 3) { @c = 1; } else { @d = 1; } }',
  'BEGIN { if (1) {} if (2) {} @x = 1 }',
  'BEGIN { unroll(5) { @i++; } }',
  'BEGIN { unroll($1) { @i++; } unroll($#) { @j++; } unroll(-1) { } }',
  'BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 5) { break; } if ($i == 3) { continue; } } }',
  'BEGIN { while (1) { break; } }',
  'BEGIN { return; }',
  'BEGIN { return }',
  'BEGIN { exit() }',
  'BEGIN { exit(); }',
  'BEGIN { @x++; @y--; ++@z; --@w; @m[1]++; --@m[2]; }',
  'BEGIN { $x = 0; $x++; $x--; ++$x; --$x; $y = $x++ + ++$x; }',
  'BEGIN { @x = 1; @x += 2; @x -= 3; @x *= 4; @x /= 5; @x %= 6; @x &= 7; @x |= 8; @x ^= 9; @x <<= 1; @x >>= 1; }',
  'BEGIN { $x = 1; $x += 1; @m[1] <<= 2; }',
  'BEGIN { @ = 1 ? 2 : 3; @a = pid > 1 ? "big" : "small"; @b = 1 ? 2 ? 3 : 4 : 5; }',
  'BEGIN { @ = !1; @a = ~1; @b = -1; @c = -$x; @d = *$x; @e = !!1; @f = - -1; }',
  'BEGIN { @ = 1 + 2 * 3 - 4 / 5 % 6; @a = 1 << 2 >> 3; @b = 1 & 2 | 3 ^ 4; }',
  'BEGIN { @ = 1 < 2 && 3 <= 4 || 5 > 6 && 7 >= 8 || 9 == 10 && 11 != 12; }',
  'BEGIN { @ = 0x10 + 010 + 1_000 + 1e6 + 1ULL + 2u + 3l + 0XFF + 1E3 + 0; }',
  'BEGIN { @ = 18446744073709551615; @a = 0xffffffffffffffff; @b = -9223372036854775808; }',
  'BEGIN { @ = "a\\tb\\nc\\\\d\\"e\\x41\\101\\0\\r"; }',
  'BEGIN { @ = ""; @a = "é"; }',
  'BEGIN { printf("%s %d %u %x %c\\n", comm, pid, uid, 1, 65); }',
  'BEGIN { printf("%-16s %6d\\n", comm, pid); time("%H:%M:%S\\n"); }',
  'BEGIN { @ = ksym(0); @a = usym(0); @b = kaddr("do_nanosleep"); @c = uaddr("main"); }',
  'BEGIN { @ = ntop(2, 0); @a = cgroupid("/sys/fs/cgroup"); @b = strncmp("a", "b", 1); }',
  'BEGIN { @ = kstack(perf, 3); @a = ustack(bpftrace); @b = kstack(5); @c = kstack; @d = ustack(); }',
  'BEGIN { @ = avg(1); @a = min(1); @b = max(1); @c = stats(1); @d = sum(1); @e = count(); }',
  'BEGIN { @ = hist(1); @a = lhist(1, 0, 100, 10); }',
  'BEGIN { system("ls"); cat("/proc/loadavg"); signal("KILL"); override(0); }',
  'BEGIN { @ = buf("abc", 2); @a = macaddr(0); @b = str(0, 10); @c = join(0); }',
  'BEGIN { @ = $1; @a = $2 + $3; @b = $#; @c = str($1); }',
  'BEGIN { @ = arg0 + arg1 + arg9 + sarg0; @a = retval; @b = func; @c = probe; }',
  'BEGIN { @ = pid + tid + uid + gid + nsecs + elapsed + cpu + rand + numaid; }',
  'BEGIN { @ = curtask; @a = ctx; @b = username; @c = cgroup; @d = cpid; }',
  'BEGIN { @ = args->foo; @a = args.foo; @b = args->a.b.c; }',
  'BEGIN { @ = $x[0]; @a = $x[1][2]; @b = $x->y[3]; @c = @m[1][2]; }',
  'BEGIN /1/ { }',
  'BEGIN /pid/ { }',
  'BEGIN / pid == 1 / { }',
  'BEGIN /(pid / 2) == 1/ { }',
  'BEGIN / pid / 2 == 1 / { }',
  'BEGIN /pid/{ }',
  'BEGIN /$1 == 1 && $# > 0/ { }',
  'BEGIN /comm == "bash"/ { }',
  'kprobe:f /arg0 > 0x1000/ { @[arg0 / 4096] = count(); }',
  'BEGIN { @x = 1 / 2 / 3; @y = 4 / 2 }',
  '#!/usr/bin/env bpftrace\nBEGIN { }',
  '#!/usr/bin/bpftrace\n#include <linux/sched.h>\n#include <net/sock.h>\nBEGIN { }',
  '#define FOO 1\n#define BAR(x) \\\n  ((x) + 1)\nBEGIN { }',
  'struct X { int a; };\nBEGIN { $x = (struct X *)0; @ = $x->a; }',
  'struct X { int a; struct { int b; } c; union { long d; char e[4]; } f; };\nkprobe:f { }',
  'struct X { int a; }\nBEGIN { }',
  'enum E { A, B = 2, C };\nBEGIN { }',
  'union U { int a; long b; };\nBEGIN { }',
  'struct X;\nBEGIN { }',
  '// comment\nBEGIN { // comment\n  @x = 1; // comment\n} // trailing',
  '/* block */ BEGIN /* a */ { /* b */ @x /* c */ = /* d */ 1; /* e */ }',
  'BEGIN, /* between */ END { }',
  'kprobe:f, // line comment\n  kprobe:g\n{ }',
  'BEGIN\n{\n\t@x = 1;\n\n\t@y = 2\n}\n',
  'BEGIN {\r\n  @x = 1;\r\n}\r\n',
  'BEGIN{@x=1;@y=2}END{@z=3}',
  // newer bpftrace
  'begin { printf("hi\\n"); } end { }',
  'config = { max_strlen = 128; stack_mode = perf }\nBEGIN { }',
  'config = { max_map_keys = 100; print_maps_on_exit = false; on_stack_limit = "warn"; x = -1; }\nBEGIN { }',
  'BEGIN { let $x; let $y = 1; let $z: uint32 = 2; let $s: string; $x = 3; }',
  'BEGIN { let $a: struct task_struct * = curtask; let $b: uint8[4]; }',
  'BEGIN { @m[1] = 1; for ($kv : @m) { printf("%d %d\\n", $kv.0, $kv.1); } }',
  'BEGIN { for ($i : 0..10) { @s += $i; } for ($j : $1..$2) { } }',
  'BEGIN { $b = true; $c = false; if (true) { } }',
  'BEGIN { @ = offsetof(struct task_struct, pid); @a = offsetof(struct X, a.b.c); }',
  'BEGIN { $x = (uint8[4])$y; $z = (char[16])$w; $p = (unsigned long)1; $q = (unsigned long long *)0; }',
  'BEGIN { $x = 1; $p = &$x; }',
  'BEGIN { ;; @x = 1;; ; }',
  'BEGIN { if (1) { }; while (0) { }; }',
  'BEGIN { { $x = 1; } { } }',
  'fentry:vfs_read { @ = count(); } fexit:vfs_read { @ = count(); }',
  'uprobe:"/path with space/bin":func { }',
  'uprobe:/bin/bash:"read:line" { }',
  'uprobe:/usr/lib/libstdc++.so.6:cpp:"std::string::size()" { }',
  'uprobe:/bin/ba\\ sh:readline { }',
  'kprobe:f* , kprobe:g? { }',
  'kprobe:$1 { } uprobe:$2:main { }',
  'tracepoint:syscalls:sys_enter_openat { @[args.filename] = count(); }',
  'BEGIN { @ = strcontains("abc", "b"); @a = has_key(@m, 1); @b = len(@m); }',
];

test(`${GOOD.length} programs parse`, () => {
  assert.ok(GOOD.length >= 120);
  for (const src of GOOD) {
    let p: Program;
    try {
      p = parse(src);
    } catch (e) {
      assert.fail(`${JSON.stringify(src)}:\n${(e as Error).message}`);
    }
    assert.equal(p.kind, 'Program');
    assert.ok(p.probes.length >= 1, src);
    assert.equal(p.source, src);
    assert.equal(p.file, 'stdin');
  }
});

// A compact rendering of expressions for shape checks.
function sx(e: Expr | TypeSpec): string {
  switch (e.kind) {
    case 'Int': return String(e.value);
    case 'Str': return JSON.stringify(e.value);
    case 'Bool': return String(e.value);
    case 'Builtin': return e.name;
    case 'Var': return '$' + e.name;
    case 'Positional': return '$' + e.index;
    case 'PositionalCount': return '$#';
    case 'Map': return '@' + e.name + (e.keys ? `[${e.keys.map(sx).join(', ')}]` : '');
    case 'Call': return `${e.name}(${e.args.map(sx).join(', ')})`;
    case 'Binary': return `(${sx(e.left)} ${e.op} ${sx(e.right)})`;
    case 'Unary': return `(${e.op}${sx(e.operand)})`;
    case 'IncDec': return e.prefix ? `(${e.op}${sx(e.target)})` : `(${sx(e.target)}${e.op})`;
    case 'Ternary': return `(${sx(e.cond)} ? ${sx(e.then)} : ${sx(e.else)})`;
    case 'Field': return `${sx(e.expr)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'TupleIndex': return `${sx(e.expr)}.${e.index}`;
    case 'Index': return `${sx(e.expr)}[${sx(e.index)}]`;
    case 'Cast': return `cast<${sx(e.type)}>(${sx(e.expr)})`;
    case 'Tuple': return `tuple(${e.elems.map(sx).join(', ')})`;
    case 'Sizeof': return `sizeof(${sx(e.arg)})`;
    case 'Offsetof': return `offsetof(${sx(e.type)}, ${e.field.join('.')})`;
    case 'TypeSpec': return e.name + '*'.repeat(e.pointer) + (e.arrayLen === null ? '' : `[${e.arrayLen}]`);
  }
}

function stmts(src: string): Stmt[] {
  return parse(src).probes[0].body.stmts;
}

/** The value of `@ = EXPR` written alone in BEGIN. */
function value(expr: string): string {
  const s = stmts(`BEGIN { @ = ${expr}; }`)[0];
  assert.equal(s.kind, 'Assign');
  return sx(s.value);
}

test('precedence and associativity are C\'s', () => {
  assert.equal(value('1 + 2 * 3'), '(1 + (2 * 3))');
  assert.equal(value('1 - 2 - 3'), '((1 - 2) - 3)');
  assert.equal(value('1 | 2 ^ 3 & 4 == 5 < 6 << 7 + 8 * 9'), '(1 | (2 ^ (3 & (4 == (5 < (6 << (7 + (8 * 9))))))))');
  assert.equal(value('1 || 2 && 3'), '(1 || (2 && 3))');
  assert.equal(value('1 < 2 == 3 > 4'), '((1 < 2) == (3 > 4))');
  assert.equal(value('!1 == 2'), '((!1) == 2)');
  assert.equal(value('1 ? 2 : 3 ? 4 : 5'), '(1 ? 2 : (3 ? 4 : 5))');
  assert.equal(value('1 ? 2 ? 3 : 4 : 5'), '(1 ? (2 ? 3 : 4) : 5)');
  assert.equal(value('1 || 2 ? 3 : 4'), '((1 || 2) ? 3 : 4)');
  assert.equal(value('*$x.a'), '(*$x.a)');
  assert.equal(value('-$x->a[1]'), '(-$x->a[1])');
  assert.equal(value('~-!*$x'), '(~(-(!(*$x))))');
  assert.equal(value('$x++ + 1'), '(($x++) + 1)');
  assert.equal(value('1 << 2 >> 3'), '((1 << 2) >> 3)');
});

test('negative integer literals are folded, other negations are not', () => {
  assert.equal(value('-1'), '-1');
  assert.equal(value('- 1'), '-1');
  assert.equal(value('$x - -1'), '($x - -1)');
  assert.equal(value('-(1)'), '(-1)');
  assert.equal(value('-$1'), '(-$1)');
  const s = stmts('BEGIN { @ = -0x10; }')[0];
  assert.ok(s.kind === 'Assign' && s.value.kind === 'Int');
  assert.equal(s.value.value, -16n);
  assert.equal(s.value.raw, '-0x10');
});

test('casts, parenthesised expressions and tuples', () => {
  assert.equal(value('(uint32)1'), 'cast<uint32>(1)');
  assert.equal(value('(uint32)-1'), 'cast<uint32>(-1)');
  assert.equal(value('(uint32) - 1'), 'cast<uint32>(-1)');
  assert.equal(value('(struct task_struct *)curtask'), 'cast<struct task_struct*>(curtask)');
  assert.equal(value('(struct task_struct **)0'), 'cast<struct task_struct**>(0)');
  assert.equal(value('(union bpf_attr)0'), 'cast<union bpf_attr>(0)');
  assert.equal(value('(uint8 *)$x->a'), 'cast<uint8*>($x->a)');
  assert.equal(value('(uint8[4])$x'), 'cast<uint8[4]>($x)');
  assert.equal(value('(unsigned long long)1'), 'cast<unsigned long long>(1)');
  // As in bpftrace 0.17: `(name)` is a cast whatever follows, even `* x`.
  assert.equal(value('(foo) * $x'), 'cast<foo>((*$x))');
  assert.equal(value('-(uint8)1'), '(-cast<uint8>(1))');
  // A builtin in parentheses is an expression.
  assert.equal(value('(pid) + 1'), '(pid + 1)');
  assert.equal(value('(pid) - 1'), '(pid - 1)');
  assert.equal(value('(1)'), '1');
  assert.equal(value('((1 + 2)) * 3'), '((1 + 2) * 3)');
  assert.equal(value('(1, "a")'), 'tuple(1, "a")');
  assert.equal(value('((1, 2), 3)'), 'tuple(tuple(1, 2), 3)');
  assert.equal(value('(1, 2).1'), 'tuple(1, 2).1');
  assert.equal(value('$t.0.1'), '$t.0.1');
  assert.equal(value('sizeof(struct X)'), 'sizeof(struct X)');
  assert.equal(value('sizeof(uint32)'), 'sizeof(uint32)');
  assert.equal(value('sizeof(pid_t)'), 'sizeof(pid_t)');
  assert.equal(value('sizeof($x)'), 'sizeof($x)');
  assert.equal(value('sizeof(1 + 2)'), 'sizeof((1 + 2))');
  assert.equal(value('sizeof(pid)'), 'sizeof(pid)');
  assert.equal(value('offsetof(struct X, a.b)'), 'offsetof(struct X, a.b)');
});

test('postfix forms, calls, maps and builtins', () => {
  assert.equal(value('args->filename'), 'args->filename');
  assert.equal(value('args.filename'), 'args.filename');
  assert.equal(value('$t->parent->pid'), '$t->parent->pid');
  assert.equal(value('$x.pid.comm'), '$x.pid.comm');
  assert.equal(value('$x[3]'), '$x[3]');
  assert.equal(value('@m[1, "a"]'), '@m[1, "a"]');
  assert.equal(value('@m[(1, 2)]'), '@m[tuple(1, 2)]');
  assert.equal(value('@'), '@');
  assert.equal(value('@[1]'), '@[1]');
  assert.equal(value('count()'), 'count()');
  assert.equal(value('kstack'), 'kstack');
  assert.equal(value('kstack(perf, 3)'), 'kstack(perf, 3)');
  assert.equal(value('foo(1, $x, "s")'), 'foo(1, $x, "s")');
  assert.equal(value('$1 + $#'), '($1 + $#)');
  assert.equal(value('true'), 'true');
  assert.equal(value('arg0'), 'arg0');
  assert.equal(value('unknown_thing'), 'unknown_thing');
  assert.equal(value('&$x'), '(&$x)');
});

test('statements', () => {
  const ss = stmts('BEGIN { $x = 1; @m[1] += 2; $x++; --@m[1]; let $y: uint32 = 3; let $z; return; }');
  assert.deepEqual(
    ss.map((s) => s.kind),
    ['Assign', 'Assign', 'ExprStmt', 'ExprStmt', 'Let', 'Let', 'Return'],
  );
  assert.ok(ss[1].kind === 'Assign' && ss[1].op === '+=' && sx(ss[1].target) === '@m[1]');
  assert.ok(ss[4].kind === 'Let' && ss[4].name === 'y' && ss[4].type?.name === 'uint32' && ss[4].value !== null);
  assert.ok(ss[5].kind === 'Let' && ss[5].type === null && ss[5].value === null);
  // `let` without a variable is just an identifier, as in bpftrace 0.17.
  assert.equal(stmts('BEGIN { let(1) }')[0].kind, 'ExprStmt');
});

test('else-if chains nest in the else branch', () => {
  const [s] = stmts('BEGIN { if (1) { @a = 1 } else if (2) { @b = 1 } else if (3) { } else { @d = 1; @e = 2 } }');
  assert.ok(s.kind === 'If');
  const e1 = s.else;
  assert.ok(e1 && e1.kind === 'If' && sx(e1.cond) === '2');
  const e2 = e1.else;
  assert.ok(e2 && e2.kind === 'If' && sx(e2.cond) === '3' && e2.then.stmts.length === 0);
  assert.ok(e2.else && e2.else.kind === 'Block' && e2.else.stmts.length === 2);
  const [t] = stmts('BEGIN { if (1) { } }');
  assert.ok(t.kind === 'If' && t.else === null);
});

test('loops', () => {
  const ss = stmts('BEGIN { unroll(3) { @i++ } while ($i < 3) { break; continue } for ($kv : @m) { } for ($i : 0..$1) { } }');
  assert.ok(ss[0].kind === 'Unroll' && sx(ss[0].count) === '3' && ss[0].body.stmts.length === 1);
  assert.ok(ss[1].kind === 'While' && sx(ss[1].cond) === '($i < 3)');
  assert.deepEqual(ss[1].kind === 'While' && ss[1].body.stmts.map((s) => s.kind), ['Break', 'Continue']);
  assert.ok(ss[2].kind === 'ForMap' && ss[2].var === 'kv' && ss[2].map.name === 'm');
  assert.ok(ss[3].kind === 'ForRange' && ss[3].var === 'i' && sx(ss[3].start) === '0' && sx(ss[3].end) === '$1');
});

test('attach points are split into provider and parts', () => {
  const aps = (src: string) => parse(src).probes.flatMap((p) => p.attachPoints.map((a) => [a.raw, a.provider, a.parts]));
  assert.deepEqual(aps('BEGIN, END, begin {}'), [['BEGIN', 'BEGIN', []], ['END', 'END', []], ['begin', 'begin', []]]);
  assert.deepEqual(aps('interval:s:1 {}'), [['interval:s:1', 'interval', ['s', '1']]]);
  assert.deepEqual(aps('tracepoint:syscalls:sys_enter_* {}'), [['tracepoint:syscalls:sys_enter_*', 'tracepoint', ['syscalls', 'sys_enter_*']]]);
  assert.deepEqual(aps('uprobe:/bin/bash:readline {}'), [['uprobe:/bin/bash:readline', 'uprobe', ['/bin/bash', 'readline']]]);
  assert.deepEqual(aps('kprobe:func+0x10 {}'), [['kprobe:func+0x10', 'kprobe', ['func+0x10']]]);
  assert.deepEqual(aps('watchpoint:0x1234:8:rw {}'), [['watchpoint:0x1234:8:rw', 'watchpoint', ['0x1234', '8', 'rw']]]);
  assert.deepEqual(aps('usdt:/path:prov:probe {}'), [['usdt:/path:prov:probe', 'usdt', ['/path', 'prov', 'probe']]]);
  assert.deepEqual(aps('uprobe:"/path with space":func {}'), [['uprobe:"/path with space":func', 'uprobe', ['/path with space', 'func']]]);
  assert.deepEqual(aps('uprobe:/lib/x.so:cpp:"ns::f(int)" {}'), [['uprobe:/lib/x.so:cpp:"ns::f(int)"', 'uprobe', ['/lib/x.so', 'cpp', 'ns::f(int)']]]);
  assert.deepEqual(aps('kprobe:$1 {}'), [['kprobe:$1', 'kprobe', ['$1']]]);
  assert.deepEqual(aps('kprobe: {}'), [['kprobe:', 'kprobe', ['']]]);
  assert.deepEqual(aps('k:f* , /* c */ kr:g? // c\n{}'), [['k:f*', 'k', ['f*']], ['kr:g?', 'kr', ['g?']]]);
  assert.deepEqual(aps('software:cpu-clock:1000 {}'), [['software:cpu-clock:1000', 'software', ['cpu-clock', '1000']]]);
  // bpftrace 0.17 joins pieces separated by whitespace; so do we.
  assert.deepEqual(aps('kprobe : f {}'), [['kprobe:f', 'kprobe', ['f']]]);
  // A trailing or doubled comma leaves no empty attach point.
  assert.deepEqual(aps('BEGIN,, END, {}'), [['BEGIN', 'BEGIN', []], ['END', 'END', []]]);
});

test('predicates, including division inside them', () => {
  const pred = (src: string) => {
    const p = parse(src).probes[0].predicate;
    return p && sx(p);
  };
  assert.equal(pred('BEGIN /(pid / 2) == 1/ {}'), '((pid / 2) == 1)');
  assert.equal(pred('BEGIN / pid / 2 == 1 / {}'), '((pid / 2) == 1)');
  assert.equal(pred('BEGIN /pid/{}'), 'pid');
  assert.equal(pred('BEGIN /pid\n/\n{}'), 'pid');
  assert.equal(pred('BEGIN /1 /* c */ / {}'), '1');
  assert.equal(pred('BEGIN {}'), null);
  const [s] = stmts('BEGIN /1/ { @ = 4 / 2 / 1 }');
  assert.ok(s.kind === 'Assign' && sx(s.value) === '((4 / 2) / 1)');
});

test('top level: shebang, preprocessor lines, C definitions, config', () => {
  const p = parse(
    '#!/usr/bin/bpftrace\n#include <linux/sched.h>\n#define X \\\n  1\nstruct A { int a; struct { int b; } c; };\n' +
      'union U { int x; }\nenum E { P, Q };\nconfig = { max_strlen = 128; stack_mode = perf; flag = true; name = "x" }\nBEGIN { }',
  );
  assert.deepEqual(p.preprocessor, ['#include <linux/sched.h>', '#define X \\\n  1']);
  assert.deepEqual(p.definitions.map((d) => d.text), [
    'struct A { int a; struct { int b; } c; };',
    'union U { int x; };',
    'enum E { P, Q };',
  ]);
  assert.ok(p.config);
  assert.deepEqual(
    p.config.entries.map((e) => [e.key, e.value.kind, 'name' in e.value ? e.value.name : String(e.value.value)]),
    [['max_strlen', 'Int', '128'], ['stack_mode', 'Ident', 'perf'], ['flag', 'Bool', 'true'], ['name', 'Str', 'x']],
  );
  assert.equal(p.probes.length, 1);
  assert.equal(p.definitions[0].loc.line, 5);
});

test('string literals keep their exact bytes', () => {
  const [s] = stmts('BEGIN { @ = "a\\tb\\x41\\101\\0\\xff\\"\\\\"; }');
  assert.ok(s.kind === 'Assign' && s.value.kind === 'Str');
  assert.deepEqual([...s.value.bytes!], [0x61, 9, 0x62, 0x41, 0x41, 0, 0xff, 0x22, 0x5c]);
  const [u] = stmts('BEGIN { @ = "é"; }');
  assert.ok(u.kind === 'Assign' && u.value.kind === 'Str' && u.value.value === 'é');
});

test('integer literals', () => {
  const ints = (text: string) => {
    const s = stmts(`BEGIN { @ = ${text}; }`)[0];
    assert.ok(s.kind === 'Assign' && s.value.kind === 'Int', text);
    return s.value.value;
  };
  assert.equal(ints('0x10'), 16n);
  assert.equal(ints('010'), 8n);
  assert.equal(ints('0_7'), 7n);
  assert.equal(ints('1_000_000'), 1000000n);
  assert.equal(ints('1e6'), 1000000n);
  assert.equal(ints('1e1_0'), 10000000000n);
  assert.equal(ints('1ULL'), 1n);
  assert.equal(ints('1e6ULL'), 1000000n);
  assert.equal(ints('18446744073709551615'), 18446744073709551615n);
});
