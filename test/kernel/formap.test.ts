// `for ($kv : @map)`: loop bodies compiled to bpf_for_each_map_elem
// callbacks, run as real programs through the CLI, plus the kernel ABI
// underneath (BTF func_info, which the verifier demands once a program takes
// a subprogram's address). Iteration order is the kernel's hash order, so
// assertions compare sorted lines.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  assemble, call, exit, label, ldFunc, ldMapFd, mov64Imm, R0, R1, R2, R3, R4,
} from '../../src/bpf/asm/index.js';
import {
  BpfMap, buildFuncBtf, closeAll, closeBtf, loadBtf, loadFuncInfo, MAP_ELEM_CALLBACK_PARAMS, MapType, onlineCpus,
  Program, ProgType, u32Key, VerifierError,
} from '../../src/bpf/index.js';
import { BPFKIT, cli, trace, workload, WORKLOAD_COMM } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';
import { uniquePrefix } from './bpf-helpers.js';

after(() => closeAll());
const skip = !isRoot() && 'needs root';

/** Output lines before the maps printed at exit (which follow two blank lines), sorted. */
function loopLines(stdout: string): string[] {
  const body = stdout.split('\n\n\n')[0];
  return body.split('\n').filter((l) => l && !l.startsWith('Attaching')).sort();
}

async function run(program: string): Promise<string[]> {
  const r = await trace(program);
  assert.equal(r.code, 0, r.stderr);
  return loopLines(r.stdout);
}

// ------------------------------------------------------------- kernel ABI

test('BPF_BTF_LOAD accepts the func BTF', { skip }, () => {
  const { blob } = buildFuncBtf([{ name: 'main', params: [] }, { name: 'cb', params: MAP_ELEM_CALLBACK_PARAMS }]);
  const fd = loadBtf(blob);
  assert.ok(fd > 0);
  closeBtf(fd);
});

test('a callback program needs func_info, and loads with it', { skip }, () => {
  const m = BpfMap.create({ type: MapType.HASH, name: uniquePrefix('fm'), keySize: 4, valueSize: 8, maxEntries: 4 });
  m.update(u32Key(1), Buffer.alloc(8));
  const insns = [
    ldMapFd(R1, m.fd), ldFunc(R2, 'cb'), mov64Imm(R3, 0), mov64Imm(R4, 0), call('for_each_map_elem'),
    mov64Imm(R0, 0), exit(),
    label('cb'), mov64Imm(R0, 0), exit(),
  ];
  const asm = assemble(insns);
  const spec = { type: ProgType.RAW_TRACEPOINT, name: uniquePrefix('fm'), insns: asm.bytes };
  assert.throws(() => Program.load(spec), (e: unknown) => e instanceof VerifierError && /func_info/.test(e.log));
  const btf = loadFuncInfo('main', [{ name: 'cb', params: MAP_ELEM_CALLBACK_PARAMS, slot: asm.labels.get('cb')! }]);
  try {
    assert.deepEqual(btf.funcInfo.map((f) => f.insnOff), [0, 9]);
    const p = Program.load({ ...spec, ...btf });
    assert.equal(p.testRun({ ctx: Buffer.alloc(8) }).retval, 0);
    p.close();
  } finally {
    closeBtf(btf.btfFd);
  }
  m.close();
});

// -------------------------------------------------------------- language

test('keys and values of a map', { skip }, async () => {
  assert.deepEqual(await run('BEGIN { @a[1] = 10; @a[2] = 20; for ($kv : @a) { printf("%d %d\\n", $kv.0, $kv.1); } exit(); }'),
    ['1 10', '2 20']);
});

test('variables changed in the body are seen after the loop; read-only ones keep their value', { skip }, async () => {
  const lines = await run(`BEGIN { @a[1] = 10; @a[2] = 20; @a[3] = 12; $base = 100; $s = 0; $n = 0; $name = "sum";
    for ($kv : @a) { $s += $kv.1; $n++; printf("%d\\n", $base + $kv.0); }
    printf("%s %d n %d\\n", $name, $s, $n); exit(); }`);
  assert.deepEqual(lines, ['101', '102', '103', 'sum 42 n 3']);
});

test('multi-key maps give a tuple key; string keys and values', { skip }, async () => {
  const lines = await run(`BEGIN { @m[1, "x"] = 5; @m[2, "yy"] = 6; @s["foo"] = "bar"; @s["baz"] = "quux"; @t[7] = (8, "nine");
    for ($kv : @m) { printf("m %d %s %d\\n", $kv.0.0, $kv.0.1, $kv.1); }
    for ($kv : @s) { printf("s %s=%s\\n", $kv.0, $kv.1); }
    for ($e : @t) { printf("t %d %d %s\\n", $e.0, $e.1.0, $e.1.1); }
    exit(); }`);
  assert.deepEqual(lines, ['m 1 x 5', 'm 2 yy 6', 's baz=quux', 's foo=bar', 't 7 8 nine']);
});

test('a map without keys has one element keyed 0', { skip }, async () => {
  assert.deepEqual(await run('BEGIN { @x = 5; for ($kv : @x) { printf("%d %d\\n", $kv.0, $kv.1); } exit(); }'), ['0 5']);
});

test('per-CPU aggregations filled by a tracepoint, iterated in END', { skip }, async () => {
  const r = await trace(`tracepoint:syscalls:sys_enter_getppid /comm == "${WORKLOAD_COMM}"/ {
      @c[comm] = count(); @s[comm] = sum(3); @mx[comm] = max(7); @mn[comm] = min(-2); @av[comm] = avg(5); }
    END { for ($kv : @c) { printf("count %s %d\\n", $kv.0, $kv.1); } for ($kv : @s) { printf("sum %d\\n", $kv.1); }
      for ($kv : @mx) { printf("max %d\\n", $kv.1); } for ($kv : @mn) { printf("min %d\\n", $kv.1); }
      for ($kv : @av) { printf("avg %d\\n", $kv.1); }
      clear(@c); clear(@s); clear(@mx); clear(@mn); clear(@av); }`, { workload: ['getppid', '25'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(loopLines(r.stdout), ['avg 5', `count ${WORKLOAD_COMM} 25`, 'max 7', 'min -2', 'sum 75']);
});

test('per-CPU partial values are merged over every CPU', { skip: skip || (onlineCpus().length < 2 && 'needs two CPUs') || (!existsSync('/usr/bin/taskset') && 'needs taskset') }, () => {
  const [a, b] = onlineCpus();
  const wl = workload();
  const r = cli(['-e', `tracepoint:syscalls:sys_enter_getppid /comm == "${WORKLOAD_COMM}"/ { @c[cpu] = count(); @t = count(); @av = avg(cpu == ${a} ? 1 : 101); @mx = max(cpu); @mn = min(cpu); }
    END { for ($kv : @c) { printf("cpu %d %d\\n", $kv.0, $kv.1); } for ($kv : @t) { printf("total %d\\n", $kv.1); }
      for ($kv : @av) { printf("avg %d\\n", $kv.1); } for ($kv : @mx) { printf("max %d\\n", $kv.1); } for ($kv : @mn) { printf("min %d\\n", $kv.1); }
      clear(@c); clear(@t); clear(@av); clear(@mx); clear(@mn); }`,
  '-c', `/bin/sh -c 'taskset -c ${a} ${wl} -n getppid 30; taskset -c ${b} ${wl} -n getppid 70'`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(loopLines(r.stdout), ['avg 71', `cpu ${a} 30`, `cpu ${b} 70`, `max ${Math.max(a, b)}`, `min ${Math.min(a, b)}`, 'total 100']);
});

test('break and continue', { skip }, async () => {
  const lines = await run(`BEGIN { @a[1] = 1; @a[2] = 2; @a[3] = 3; $n = 0; $seen = 0;
    for ($kv : @a) { $seen++; if ($kv.0 == 2) { continue; } printf("saw %d\\n", $kv.0); }
    for ($kv : @a) { $n++; if ($n == 2) { break; } }
    printf("seen %d n %d\\n", $seen, $n); exit(); }`);
  assert.deepEqual(lines, ['saw 1', 'saw 3', 'seen 3 n 2']);
});

test('return and exit() inside the body end the probe', { skip }, async () => {
  assert.deepEqual(await run(`BEGIN { @a[1] = 1; @a[2] = 2; $i = 0;
    for ($kv : @a) { $i++; printf("in %d\\n", $i); return; } printf("after the loop\\n"); }
    BEGIN { exit(); }`), ['in 1']);
  assert.deepEqual(await run('BEGIN { @a[1] = 1; @a[2] = 2; for ($kv : @a) { printf("in\\n"); exit(); } printf("after\\n"); }'), ['in']);
});

test('nested loops, and bounded loops inside the body', { skip }, async () => {
  const lines = await run(`BEGIN { @a[1] = 1; @a[2] = 2; $pairs = 0; $t = 0;
    for ($x : @a) { for ($y : @a) { $pairs++; printf("%d-%d\\n", $x.0, $y.0); } }
    for ($kv : @a) { $j = 0; while ($j < 3) { $j++; if ($j == 2) { continue; } $t += $j * $kv.1; } for ($i : 0..2) { $t += 100; } }
    printf("pairs %d t %d\\n", $pairs, $t); exit(); }`);
  assert.deepEqual(lines, ['1-1', '1-2', '2-1', '2-2', 'pairs 4 t 412']);
});

test('the loop variable is scoped to its loop', { skip }, async () => {
  assert.deepEqual(await run(`BEGIN { @n[1] = 2; @s["k"] = "v"; $kv = 7;
    for ($kv : @n) { printf("n %d %d\\n", $kv.0, $kv.1); } for ($kv : @s) { printf("s %s %s\\n", $kv.0, $kv.1); }
    printf("kv %d\\n", $kv); exit(); }`), ['kv 7', 'n 1 2', 's k v']);
});

test('tracepoint context and builtins inside the body', { skip }, async () => {
  const r = await trace(`BEGIN { @a[1] = 5; } tracepoint:syscalls:sys_enter_close /comm == "${WORKLOAD_COMM}" && (int32)args.fd < 0/ {
    for ($kv : @a) { printf("%d %s %d\\n", $kv.1, comm, (int32)args.fd); } exit(); }`, { workload: ['close', '-7'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(loopLines(r.stdout), [`5 ${WORKLOAD_COMM} -7`]);
});

test('hist maps cannot be iterated', () => {
  const r = cli(['--dry-run', '-e', 'BEGIN { @h = hist(3); for ($kv : @h) { } }']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /for loops cannot iterate over @h: a hist\(\) map has no single value per key/);
});

test('-d codegen shows the callback after the program', () => {
  const r = spawnSync(process.execPath, [BPFKIT, '--dry-run', '-d', 'codegen', '-e', 'BEGIN { @a[1] = 1; for ($kv : @a) { printf("%d\\n", $kv.1); } }'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /r2 = subprog\[\+\d+\]\s+; for \(\$kv : @a\)/);
  assert.match(r.stderr, /call bpf_for_each_map_elem#164/);
  // The callback restores the scratch base and ctx from callback_ctx.
  assert.match(r.stderr, /; for \(\$kv : @a\) at stdin:1:\d+\n\s+\d+: \(79\) r9 = \*\(u64 \*\)\(r4 \+0\)\n\s+\d+: \(79\) r6 = \*\(u64 \*\)\(r4 \+8\)/);
});
