// uprobe arguments from DWARF (issue 5): `-lv` lists a function's
// parameters byte for byte as Debian's bpftrace 0.17 does, and programs
// read `args->NAME` / `args.NAME` from the registers the System V ABI puts
// them in, with the values the workload passed. Where bpftrace 0.17 reads
// the wrong register (parameters after a double or a struct passed by
// value) bpfkit reads the right one; parameters no register holds are
// compile errors that say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC, isRoot } from '../lib/fixtures.js';
import { haveBpftrace, runCli } from './issue5-lib.js';

const root = !isRoot() && 'needs root';
const noBt = !haveBpftrace() && 'bpftrace is not installed';

const d5 = () => realpathSync(compileC('dwarf_args', ['-gdwarf-5'], 'dwarf_args_d5'));
const d4 = () => realpathSync(compileC('dwarf_args', ['-gdwarf-4'], 'dwarf_args_d4'));
const dz = () => realpathSync(compileC('dwarf_args', ['-gdwarf-5', '-gz=zlib'], 'dwarf_args_z'));
const g0 = () => realpathSync(compileC('dwarf_args', ['-g0'], 'dwarf_args_g0'));

/** Lines without bpftrace's RLIMIT_MEMLOCK complaint (it cannot raise the limit here; bpfkit never prints it). */
const clean = (s: string) => s.split('\n').filter((l) => !l.includes('RLIMIT_MEMLOCK')).join('\n');

for (const [what, bin] of [
  ['DWARF 5', d5],
  ['DWARF 4', d4],
  ['zlib-compressed DWARF 5', dz],
  ['no debug info', g0],
] as const) {
  test(`-lv on a binary with ${what} prints what bpftrace 0.17 prints`, { skip: root || noBt }, async () => {
    const b = bin();
    for (const pat of [`uprobe:${b}:*`, `uprobe:${b}:da_ints`, `uprobe:${b}:da_*`, `uretprobe:${b}:da_ints`, `uprobe:${b}:nothing_here`]) {
      const ours = await runCli(['-lv', pat]);
      const theirs = await runCli(['-lv', pat], { tool: 'bpftrace' });
      assert.equal(ours.stdout, theirs.stdout, pat);
      assert.equal(clean(ours.stderr), clean(theirs.stderr), pat);
      assert.equal(ours.code, theirs.code, pat);
    }
  });
}

test('-lv parameter lines, exactly', { skip: root }, async () => {
  const b = d5();
  const r1 = await runCli(['-lv', `uprobe:${b}:da_ints`]);
  const r2 = await runCli(['-lv', `uprobe:${b}:da_ptrs`]);
  assert.equal(
    r1.stdout + r2.stdout,
    [
      `uprobe:${b}:da_ints`,
      '    int a',
      '    long int b',
      '    unsigned int c',
      '    short int d',
      '    signed char e',
      '    unsigned char g',
      `uprobe:${b}:da_ptrs`,
      '    const char* s',
      '    const rec_t* r',
      '    enum mode m',
      '    counter_t n',
      '    _Bool ok',
      '    void* opaque',
      '',
    ].join('\n'),
  );
  const n = await runCli(['-lv', `uprobe:${g0()}:da_ints`]);
  assert.equal(n.stdout, `uprobe:${g0()}:da_ints\n`);
  assert.equal(n.stderr, `WARNING: No DWARF found for "${g0()}", cannot show parameter info\n`);
});

/** The program's lines, sorted (probe output and the workload's own "done" interleave). */
async function run(prog: string, bin: string, tool: 'bpfkit' | 'bpftrace' = 'bpfkit'): Promise<{ lines: string[]; stderr: string; code: number | null }> {
  const r = await runCli(['-e', prog, '-c', bin], { tool, timeoutMs: 30000 });
  const lines = r.stdout.split('\n').filter((l) => l !== '' && l !== 'done' && !l.startsWith('Attaching '));
  return { lines: lines.sort(), stderr: clean(r.stderr), code: r.code };
}

const PROGRAM = (b: string) => `
uprobe:${b}:da_ints { printf("ints %d %ld %u %d %d %u\\n", args->a, args->b, args->c, args->d, args->e, args->g); }
uprobe:${b}:da_ptrs {
  printf("ptrs %s %d %ld %s %d %d %d %s %d %d %d %d\\n", str(args->s), args->r->id, args->r->total, args->r->name,
    args->r->flag, args->r->level, args->r->next->id, args->r->next->name, args->m, args->n, args->ok, args->opaque != 0);
}
uprobe:${b}:da_after_double { printf("dbl %d %ld\\n", args->after, args->last); }
uprobe:${b}:da_after_struct { printf("st %d %d %s\\n", args.first, args.after, str(args.label)); }
uprobe:${b}:da_many { printf("many %d %d\\n", args->a1, args->a6); }
uprobe:${b}:da_u64 { printf("u64 %lu %ld %d\\n", args->big, args->neg, args->us); }
uprobe:${b}:da_both { printf("both %d %ld\\n", args->v, args->w); }
`;

for (const [what, bin] of [
  ['DWARF 5', d5],
  ['DWARF 4', d4],
  ['compressed DWARF', dz],
] as const) {
  test(`args by name read the workload's values (${what})`, { skip: root }, async () => {
    const b = bin();
    const r = await run(PROGRAM(b), b);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, [
      'both 5 6',
      'dbl 31 -99',
      'ints -7 -1234567890123 4000000000 -300 -5 250',
      'many 1 6',
      'ptrs hello-dwarf 42 1234567890123 outer 5 17 9 inner 7 77 1 1',
      'st 11 22 hello-dwarf',
      'u64 18446744073709551615 -9000000000 65535',
    ]);
  });
}

test('args of integer parameters match bpftrace 0.17 on the same workload', { skip: root || noBt }, async () => {
  const b = d5();
  // The probes bpftrace 0.17 gets right (it maps the Nth parameter to the Nth register).
  const prog = `
uprobe:${b}:da_ints { printf("ints %d %d %u %d %d %u\\n", args->a, args->b, args->c, args->d, args->e, args->g); }
uprobe:${b}:da_many { printf("many %d %d %d\\n", args->a1, args->a2, args->a6); }
uprobe:${b}:da_u64 { printf("u64 %lu %ld %d\\n", args->big, args->neg, args->us); }
uprobe:${b}:da_both { printf("both %d %d\\n", args->v, args->w); }
`;
  const ours = await run(prog, b);
  const theirs = await run(prog, b, 'bpftrace');
  assert.equal(ours.code, 0, ours.stderr);
  assert.deepEqual(ours.lines, theirs.lines);
  assert.equal(ours.lines.length, 4);
});

/** The first `ERROR:` line of a program that must not compile. */
async function compileError(prog: string, tool: 'bpfkit' | 'bpftrace' = 'bpfkit'): Promise<string> {
  const r = await runCli(['-e', prog], { tool, timeoutMs: 30000 });
  assert.notEqual(r.code, 0, `${tool} accepted ${prog}`);
  const line = clean(r.stderr).split('\n').find((l) => l.includes('ERROR:'));
  assert.ok(line, r.stderr);
  return line.replace(/^.*?ERROR: /, '');
}

test('diagnostics for args bpftrace 0.17 also refuses, in its words', { skip: root || noBt }, async () => {
  const b = d5();
  const n = g0();
  for (const prog of [
    `uprobe:${b}:da_ints { printf("%d\\n", args->zz); }`,
    `uretprobe:${b}:da_ints { printf("%d\\n", args->a); }`,
    `uprobe:${n}:da_ints { printf("%d\\n", args->a); }`,
    `uprobe:${b}:da_after_double { printf("%d\\n", args->x); }`,
  ]) {
    assert.equal(await compileError(prog), await compileError(prog, 'bpftrace'), prog);
  }
});

test('parameters no register holds are errors that say why', { skip: root }, async () => {
  const b = d5();
  assert.equal(
    await compileError(`uprobe:${b}:da_many { printf("%d\\n", args->a7); }`),
    "'args' builtin is not supported for probes with stack-passed arguments (a7 is passed on the stack)",
  );
  assert.equal(
    await compileError(`uprobe:${b}:da_after_struct { print(args->p); }`),
    'p has unsupported type: struct pair is passed by value (args can read integer and pointer parameters)',
  );
  assert.equal(await compileError(`uprobe:${b}:da_after_double { print(args->y); }`), 'y has unsupported type');
  assert.equal(await compileError(`uprobe:${g0()}:da_ints { print(args.a); }`), `No debuginfo found for ${g0()}`);
});

test('structs behind pointer args print whole, bitfields included', { skip: root }, async () => {
  const b = d5();
  const r = await run(`uprobe:${b}:da_ptrs { print(*args->r); print(args->r->next->name); @[args->m] = sum(args->n); }`, b);
  assert.equal(r.code, 0, r.stderr);
  const rec = r.lines.find((l) => l.startsWith('{'));
  assert.match(rec ?? '', /^\{ \.id = 42, \.total = 1234567890123, \.name = outer, \.flag = 5, \.level = 17, \.next = \S+ \}$/);
  assert.ok(r.lines.includes('inner'));
  assert.ok(r.lines.includes('@[7]: 77'));
});

test('DWARF in a separate file found by .gnu_debuglink (next to the binary and in .debug/), as libdw finds it', { skip: root || noBt }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-dwarf-'));
  try {
    const b = join(dir, 'stripped');
    copyFileSync(d5(), b);
    execFileSync('objcopy', ['--only-keep-debug', b, `${b}.debug`]);
    execFileSync('objcopy', ['--strip-debug', `--add-gnu-debuglink=${b}.debug`, b]);
    for (const where of ['beside', '.debug/']) {
      if (where === '.debug/') {
        mkdirSync(join(dir, '.debug'));
        renameSync(`${b}.debug`, join(dir, '.debug', 'stripped.debug'));
      }
      const ours = await runCli(['-lv', `uprobe:${b}:da_ints`]);
      const theirs = await runCli(['-lv', `uprobe:${b}:da_ints`], { tool: 'bpftrace' });
      assert.equal(ours.stdout, theirs.stdout, where);
      assert.match(ours.stdout, /\n {4}int a\n/);
      const r = await run(`uprobe:${b}:da_ints { printf("%d %d\\n", args->a, args->d); }`, b);
      assert.deepEqual(r.lines, ['-7 -300'], where);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `-lv` output as probe line -> parameter lines. */
function byProbe(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const l of out.split('\n')) {
    if (l.startsWith('    ')) cur?.push(l);
    else if (l) m.set(l, (cur = []));
  }
  return m;
}

test('libc from its separate debug file (libc6-dbg): parameters of the functions both list match bpftrace 0.17', { skip: root || noBt }, async (t) => {
  const r = await runCli(['-lv', 'uprobe:libc:qsort']);
  if (!/\n {4}/.test(r.stdout)) {
    t.skip('libc has no DWARF here (libc6-dbg is not installed)');
    return;
  }
  for (const pat of ['uprobe:libc:mall*', 'uprobe:libc:getc*', 'uprobe:libc:open*', 'uprobe:libc:qsort*']) {
    const ours = byProbe((await runCli(['-lv', pat])).stdout);
    const theirs = byProbe((await runCli(['-lv', pat], { tool: 'bpftrace', timeoutMs: 60000 })).stdout);
    let withParams = 0;
    // bpftrace also lists versioned aliases (name@@GLIBC_x); compare the probes both list.
    for (const [probe, params] of ours) {
      if (!theirs.has(probe)) continue;
      assert.deepEqual(params, theirs.get(probe), probe);
      if (params.length) withParams++;
    }
    assert.ok(withParams > 0, `${pat}: some functions have parameters`);
  }
});

test('a 100 MB binary with some DWARF 4 (node and its libuv): -lv matches bpftrace 0.17 byte for byte', { skip: root || noBt }, async (t) => {
  const node = realpathSync(process.execPath);
  const r = await runCli(['-lv', `uprobe:${node}:uv_loop_init`], { timeoutMs: 60000 });
  if (!/\n {4}/.test(r.stdout)) {
    t.skip(`${node} has no DWARF for libuv here`);
    return;
  }
  const pat = `uprobe:${node}:uv_fs_*`;
  const ours = await runCli(['-lv', pat], { timeoutMs: 60000 });
  const theirs = await runCli(['-lv', pat], { tool: 'bpftrace', timeoutMs: 60000 });
  assert.equal(ours.stdout, theirs.stdout);
  assert.ok((ours.stdout.match(/\n {4}/g) ?? []).length > 50);
});
