// Language table, issue 3: the language corners fixed there (system() that
// does not block the event loop, keyless maps after clear()/zero(), booleans,
// let scoping...) and less-tested corners, compared with bpftrace 0.17 byte
// for byte where it can run them. See lang-table.ts for the runner.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTable, type Case } from './lang-table.js';
import { trace, workload } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';

const cases: Case[] = [
  // system() runs while probes fire: its output comes between the printf()s
  // around it, in event order, as bpftrace (which runs it synchronously) prints it.
  { name: 'system() output in order with printf()', prog: 'tracepoint:syscalls:sys_enter_getppid /comm == "bpfkit_wl"/ { printf("a %d\\n", @n); system("echo sys %d", @n); printf("b\\n"); @n++; }', flags: ['--unsafe'], workload: ['getppid', '3'], bt: true, expect: 'Attaching 1 probe...\na 0\nsys 0\nb\na 1\nsys 1\nb\na 2\nsys 2\nb\n\n\n@n: 3\n' },
  { name: 'system() then exit()', prog: 'tracepoint:syscalls:sys_enter_getppid /comm == "bpfkit_wl"/ { system("sleep 0.2; echo slow"); printf("then\\n"); exit(); }', flags: ['--unsafe'], workload: ['getppid', '1'], interrupt: false, bt: true, expect: 'Attaching 1 probe...\nslow\nthen\n\n\n' },
  { name: 'system() in BEGIN and END', prog: 'BEGIN { system("echo begin"); printf("x\\n"); exit(); } END { system("echo end"); printf("y\\n"); }', flags: ['--unsafe'], bt: true, expect: 'Attaching 2 probes...\nbegin\nx\nend\ny\n\n\n' },
  // Keyless aggregations after clear()/zero() and never written, as bpftrace 0.17 prints them.
  { name: 'keyless count after clear() and zero(), and never counted', prog: 'BEGIN { @a = count(); clear(@a); @b = count(); zero(@b); if (0) { @c = count(); } if (0) { @d[1] = count(); } exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@a: 0\n@b: 0\n@c: 0\n\n' },
  { name: 'keyless count never counted, printed while running', prog: 'BEGIN { if (0) { @x = count(); } print(@x); exit(); }', bt: true, expect: 'Attaching 1 probe...\n@x: 0\n\n\n@x: 0\n' },
  { name: 'keyless sum, min, max after clear()', prog: 'BEGIN { @s = sum(5); @mn = min(5); @mx = max(5); clear(@s); clear(@mn); clear(@mx); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n\n\n\n' },
  { name: 'keyless sum, min, max after zero()', prog: 'BEGIN { @s = sum(5); @mn = min(5); @mx = max(5); zero(@s); zero(@mn); zero(@mx); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@mn: 0\n@mx: 0\n@s: 0\n' },
  { name: 'keyed min and max after zero()', prog: 'BEGIN { @mn[1] = min(5); @mx["a"] = max(5); zero(@mn); zero(@mx); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@mn[1]: 0\n@mx[a]: 0\n' },
  { name: 'keyless avg and stats after clear() and zero()', prog: 'BEGIN { @a = avg(5); @s = stats(5); @za = avg(5); @zs = stats(5); clear(@a); clear(@s); zero(@za); zero(@zs); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n\n\n\n\n@za: 0\n\n@zs: count 0, average 0, total 0\n\n' },
  { name: 'keyless hist and lhist after clear() and zero()', prog: 'BEGIN { @h = hist(5); @l = lhist(5, 0, 10, 1); @zh = hist(5); @zl = lhist(5, 0, 10, 1); clear(@h); clear(@l); zero(@zh); zero(@zl); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n\n\n@zh: \n\n@zl: \n\n' },
  { name: 'keyless aggregations never written', prog: 'BEGIN { if (0) { @s = sum(1); @mn = min(1); @a = avg(1); @st = stats(1); @h = hist(1); @l = lhist(1, 0, 10, 1); } exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n\n\n\n\n\n\n\n\n' },
  // bpftrace 0.17 has no boolean type: true and false are the unsigned integers 1 and 0.
  { name: 'true and false are 1 and 0', prog: 'BEGIN { print(true); print(false); $x = true; print($x); @b = false; @c = true; exit(); }', bt: true, expect: 'Attaching 1 probe...\n1\n0\n1\n\n\n@b: 0\n@c: 1\n' },
  { name: 'booleans as keys, in tuples, sizeof', prog: 'BEGIN { @y[true] = 1; @y[5] = 2; $t = (true, false); print($t); printf("%d %d\\n", sizeof(true), true == 1); exit(); }', bt: true, expect: 'Attaching 1 probe...\n(1, 0)\n8 1\n\n\n@y[1]: 1\n@y[5]: 2\n' },
  { name: 'booleans are unsigned', prog: 'BEGIN { print(!true); print(-true); print(~false); print(-(uint64)5); print(-5); $i = 4; print(-$i); exit(); }', bt: true, expect: 'Attaching 1 probe...\n0\n18446744073709551615\n18446744073709551615\n18446744073709551611\n-5\n-4\n\n\n' },
  // errorf()/warnf() are not in bpftrace 0.17; newer bpftrace documents them as
  // printf-formatted error/warning messages with the source location (stderr).
  { name: 'errorf() and warnf() print diagnostics at the call', prog: 'BEGIN { warnf("w %d", 2); errorf("e %s", "x"); printf("out\\n"); exit(); }', expect: 'Attaching 1 probe...\nout\n\n\n', stderr: 'stdin:1:9-25: WARNING: w 2\nBEGIN { warnf("w %d", 2); errorf("e %s", "x"); printf("out\\n"); exit(); }\n        ~~~~~~~~~~~~~~~~\nstdin:1:27-46: ERROR: e x\nBEGIN { warnf("w %d", 2); errorf("e %s", "x"); printf("out\\n"); exit(); }\n                          ~~~~~~~~~~~~~~~~~~~\n' },
  { name: 'warnf() is silent with --no-warnings', prog: 'BEGIN { warnf("w"); errorf("Something bad with args: %d, %s", 10, "arg2"); exit(); }', flags: ['--no-warnings'], expect: 'Attaching 1 probe...\n\n\n', stderr: 'stdin:1:21-74: ERROR: Something bad with args: 10, arg2\nBEGIN { warnf("w"); errorf("Something bad with args: %d, %s", 10, "arg2"); exit(); }\n                    ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  // debugf() in bpftrace 0.17: bpf_trace_printk() (the kernel's trace_pipe), nothing on stdout, a warning at compile time.
  { name: 'debugf() writes to the trace pipe, not stdout', prog: 'BEGIN { debugf("x %d %s\\n", 1, "s"); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n', stderr: 'stdin:1:9-36: WARNING: The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).\nBEGIN { debugf("x %d %s\\n", 1, "s"); exit(); }\n        ~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' },
  // let scoping (newer bpftrace's documented rule; 0.17 has no let). Assigned variables keep 0.17's probe-wide scope.
  { name: 'let in sibling blocks, of different types', prog: 'BEGIN { if (1) { let $x = 1; print($x); } if (1) { let $x = "s"; print($x); } exit(); }', expect: 'Attaching 1 probe...\n1\ns\n\n\n' },
  { name: 'let declared outside, assigned inside a block', prog: 'BEGIN { let $a = 1; let $b; if ($a == 1) { $b = 5; $a = 2; } print(($a, $b)); exit(); }', expect: 'Attaching 1 probe...\n(2, 5)\n\n\n' },
  { name: 'let in a loop body, a new one each iteration', prog: 'BEGIN { let $i = 0; while ($i < 3) { let $sq = $i * $i; print($sq); $i++; } exit(); }', expect: 'Attaching 1 probe...\n0\n1\n4\n\n\n' },
  { name: 'after a block-scoped let, the name is free again', prog: 'BEGIN { if (1) { let $x = 1; $x++; $x += 2; printf("%d\\n", $x); } $x = "later"; print($x); exit(); }', expect: 'Attaching 1 probe...\n4\nlater\n\n\n' },
  { name: 'assigned variables stay probe-wide, as in bpftrace 0.17', prog: 'BEGIN { if (1) { $b = 1; } print($b); if (0) { $c = 1; } print($c); exit(); }', bt: true, expect: 'Attaching 1 probe...\n1\n0\n\n\n' },
  // Less-tested corners, each compared with bpftrace 0.17.
  { name: 'compound assignment on multi-key map elements (new map: unsigned)', prog: 'BEGIN { @m[1, "a"] += 5; @m[1, "a"] *= 3; @m[2, "b"] -= 4; @m[2, "b"] <<= 2; @m[3, "c"] = 7; @m[3, "c"] %= 4; @m[3, "c"] |= 8; exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@m[3, c]: 11\n@m[1, a]: 15\n@m[2, b]: 18446744073709551600\n' },
  { name: '-= and -- on new maps', prog: 'BEGIN { @a--; @b[1]--; @c -= 1; @d[1] -= 1; @e[1] += 1; @e[2] -= 3; exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@a: -1\n@b[1]: -1\n@c: 18446744073709551615\n@d[1]: 18446744073709551615\n@e[1]: 1\n@e[2]: 18446744073709551613\n' },
  { name: 'nested ternaries with strings', prog: 'BEGIN { $x = 5; $s = $x > 3 ? ($x > 4 ? "big" : "mid") : "small"; printf("%s %s %s\\n", $s, $x == 5 ? "five" : $x == 6 ? "six" : "other", $x < 0 ? "neg" : $x < 3 ? "low" : $x < 10 ? "ten" : "huge"); @r[$s] = 1; exit(); }', bt: true, expect: 'Attaching 1 probe...\nbig five ten\n\n\n@r[big]: 1\n' },
  { name: 'signed and unsigned printf conversions', prog: 'BEGIN { printf("%d %u %ld %lu %x %lx %X\\n", -5, -5, -5, -5, -5, -5, -5); printf("%u %d %hu %hd %hhx\\n", (int8)-1, (uint32)4294967295, -1, 65535, -1); exit(); }', bt: true, expect: 'Attaching 1 probe...\n-5 4294967291 -5 18446744073709551611 fffffffb fffffffffffffffb FFFFFFFB\n4294967295 -1 65535 -1 ff\n\n\n' },
  { name: '%c, %o and %X with widths and flags', prog: 'BEGIN { printf("[%-3c][%3c][%08X][%-8o][%o]\\n", 65, 66, 255, 8, 0); exit(); }', bt: true, expect: 'Attaching 1 probe...\n[A  ][  B][000000FF][10      ][0]\n\n\n' },
  { name: 'lhist edge buckets', prog: 'BEGIN { @l = lhist(0, 0, 10, 5); @l = lhist(4, 0, 10, 5); @l = lhist(5, 0, 10, 5); @l = lhist(9, 0, 10, 5); @l = lhist(10, 0, 10, 5); @l = lhist(11, 0, 10, 5); @l = lhist(-1, 0, 10, 5); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@l: \n(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n[0, 5)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[5, 10)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[10, ...)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n' },
  { name: 'lhist whose step does not divide the range', prog: 'BEGIN { @l = lhist(7, 0, 10, 3); @l = lhist(9, 0, 10, 3); @l = lhist(10, 0, 10, 3); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@l: \n[6, 9)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n[10, ...)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n' },
  { name: 'lhist with a non-zero minimum', prog: 'BEGIN { @l = lhist(100, 100, 200, 50); @l = lhist(199, 100, 200, 50); @l = lhist(200, 100, 200, 50); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@l: \n[100, 150)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[150, 200)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[200, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n' },
  { name: 'stats and avg of negative values', prog: 'BEGIN { @s = stats(-10); @s = stats(5); @s = stats(-3); @a = avg(-7); @a = avg(-2); @b = avg(-9); @b = avg(2); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@a: -4\n\n@b: -3\n\n@s: count 3, average -2, total -8\n\n' },
  { name: 'keyed stats and avg of negative values', prog: 'BEGIN { @s[1] = stats(-10); @s[2] = stats(4); @a["x"] = avg(-1); @a["y"] = avg(-10); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@a[y]: -10\n@a[x]: -1\n\n@s[1]: count 1, average -10, total -10\n@s[2]: count 1, average 4, total 4\n\n' },
  { name: 'print with top and div', prog: 'BEGIN { @h[1] = 10; @h[2] = 20; @h[3] = 30; @h[4] = 5; print(@h, 2); print(@h, 2, 10); print(@h, 0, 3); exit(); }', bt: true, expect: 'Attaching 1 probe...\n@h[2]: 20\n@h[3]: 30\n@h[2]: 2\n@h[3]: 3\n@h[4]: 1\n@h[1]: 3\n@h[2]: 6\n@h[3]: 10\n\n\n@h[4]: 5\n@h[1]: 10\n@h[2]: 20\n@h[3]: 30\n' },
  { name: 'print of a count map with top', prog: 'BEGIN { @c["a"] = count(); @c["b"] = count(); @c["b"] = count(); @c["c"] = count(); @c["c"] = count(); @c["c"] = count(); print(@c, 1); print(@c, 10); clear(@c); exit(); }', bt: true, expect: 'Attaching 1 probe...\n@c[c]: 3\n@c[a]: 1\n@c[b]: 2\n@c[c]: 3\n\n\n\n' },
  { name: 'print of a hist with div', prog: 'BEGIN { @h = hist(1); @h = hist(100); @h = hist(100000); print(@h, 0, 2); exit(); }', bt: true, expect: 'Attaching 1 probe...\n@h: \n[1]                    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[2, 4)                 0 |                                                    |\n[4, 8)                 0 |                                                    |\n[8, 16)                0 |                                                    |\n[16, 32)               0 |                                                    |\n[32, 64)               0 |                                                    |\n[64, 128)              0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[128, 256)             0 |                                                    |\n[256, 512)             0 |                                                    |\n[512, 1K)              0 |                                                    |\n[1K, 2K)               0 |                                                    |\n[2K, 4K)               0 |                                                    |\n[4K, 8K)               0 |                                                    |\n[8K, 16K)              0 |                                                    |\n[16K, 32K)             0 |                                                    |\n[32K, 64K)             0 |                                                    |\n[64K, 128K)            0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n\n\n@h: \n[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[2, 4)                 0 |                                                    |\n[4, 8)                 0 |                                                    |\n[8, 16)                0 |                                                    |\n[16, 32)               0 |                                                    |\n[32, 64)               0 |                                                    |\n[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[128, 256)             0 |                                                    |\n[256, 512)             0 |                                                    |\n[512, 1K)              0 |                                                    |\n[1K, 2K)               0 |                                                    |\n[2K, 4K)               0 |                                                    |\n[4K, 8K)               0 |                                                    |\n[8K, 16K)              0 |                                                    |\n[16K, 32K)             0 |                                                    |\n[32K, 64K)             0 |                                                    |\n[64K, 128K)            1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n' },
  { name: 'small integer types stored in maps', prog: 'BEGIN { @v = (int8)-5; @w = (uint8)250; @z = (int16)-300; @y = (uint16)65535; @q = (int32)-70000; exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@q: -70000\n@v: -5\n@w: 250\n@y: 65535\n@z: -300\n' },
  { name: 'ternary as a map key', prog: 'BEGIN { @[1 > 0 ? "y" : "n"] = count(); @[0 > 1 ? "y" : "n"] = count(); @[1 > 0 ? "y" : "n"] = count(); exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@[n]: 1\n@[y]: 2\n' },
  { name: 'nested tuples printed and indexed', prog: 'BEGIN { $t = (1, "two", (3, "four")); print($t); print($t.2); printf("%d %s %d %s\\n", $t.0, $t.1, $t.2.0, $t.2.1); exit(); }', bt: true, expect: 'Attaching 1 probe...\n(1, two, (3, four))\n(3, four)\n1 two 3 four\n\n\n' },
  { name: 'compound assignment reading the map itself', prog: 'BEGIN { @x = 1; @x += @x; @x *= @x + 1; @y[@x] = @x; exit(); }', bt: true, expect: 'Attaching 1 probe...\n\n\n@x: 6\n@y[6]: 6\n' },
  { name: 'compound assignment on signed and unsigned variables', prog: 'BEGIN { $a = 10; $a -= 20; $u = (uint64)10; $u -= 20; printf("%d %u %d %u\\n", $a, $a, $u, $u); exit(); }', bt: true, expect: 'Attaching 1 probe...\n-10 4294967286 -10 4294967286\n\n\n' },
  { name: 'str() with a length', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "bpfkit_wl" && str(args->filename) == "/etc/hostname"/ { printf("[%s][%s][%s][%s]\\n", str(args->filename, 5), str(args->filename, 1), str(args->filename, 0), str(args->filename)); }', workload: ['open', '/etc/hostname', '1'], bt: true, expect: 'Attaching 1 probe...\n[/etc/][/][][/etc/hostname]\n\n\n' },
  { name: 'join() with a longer delimiter', prog: 'tracepoint:syscalls:sys_enter_execve /comm == "bpfkit_wl"/ { join(args->argv, "--"); join(args->argv, ""); }', workload: ['exec', '/bin/echo', 'a', 'bb', 'ccc'], bt: true, expect: 'Attaching 1 probe...\n/bin/echo--a--bb--ccc\n/bin/echoabbccc\n\n\n' },
];

runTable('language table (issue 3)', cases);

describe('system() does not block the event loop', { skip: isRoot() ? false : 'needs root to load BPF programs' }, () => {
  test('a command that fires its own probe runs one at a time and stops on SIGINT', async () => {
    // BEGIN's command fires the probe, whose command fires it again: an
    // endless chain, as in bpftrace, that SIGINT must still end.
    const wl = workload();
    const prog = `tracepoint:syscalls:sys_enter_getppid /comm == "bpfkit_wl"/ { printf("event\\n"); system("${wl} -n getppid 1; echo child"); printf("after\\n"); } BEGIN { system("${wl} -n getppid 1"); }`;
    const t0 = Date.now();
    const r = await trace(prog, { flags: ['--unsafe'], interrupt: true, settleMs: 1500, timeoutMs: 10000 });
    assert.equal(r.signal, null, `killed: ${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 8000);
    const body = r.stdout.replace(/^Attaching 2 probes\.\.\.\n/, '').replace(/\n\n$/, '');
    const events = body.match(/^event\n/gm)?.length ?? 0;
    assert.ok(events >= 3, `the chain ran: ${r.stdout}`);
    // Every event's lines are in order; SIGINT may cut short a command (no `child`).
    assert.match(body, /^(event\n(child\n)?after\n)*$/, r.stdout);
  });

  test('SIGINT interrupts a long command', async () => {
    const t0 = Date.now();
    const r = await trace('BEGIN { printf("go\\n"); } tracepoint:syscalls:sys_enter_getppid /comm == "bpfkit_wl"/ { system("sleep 30"); printf("never\\n"); }', { flags: ['--unsafe'], workload: ['getppid', '1'], timeoutMs: 10000 });
    assert.equal(r.signal, null, `killed: ${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 8000);
    // The interrupted command returns and the event goes on, as in bpftrace (Ctrl-C reaches the command too).
    assert.equal(r.stdout, 'Attaching 2 probes...\ngo\nnever\n\n\n');
  });
});
