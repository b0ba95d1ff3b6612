// The uprobe/uretprobe provider: what attach points expand to (checked
// against binutils' view of the same files), hand-assembled programs on the
// targets it produces, and whole bpftrace programs through the library API.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { closeAll, hasUprobeMulti, onlineCpus, ProgType } from '../../src/bpf/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { Trace } from '../../src/index.js';
import { splitAttachPoint } from '../../src/lang/attach.js';
import { locOf, START } from '../../src/lang/loc.js';
import { uprobeProvider, uretprobeProvider } from '../../src/probes/uprobe.js';
import { ProbeError, type ArgRead, type ExpandEnv, type Provider, type ProbeTarget } from '../../src/probes/provider.js';
import { listProbes } from '../../src/probes/list.js';
import { providers } from '../../src/probes/index.js';
import '../../src/probes/more.js';
import { compileC, isRoot } from '../lib/fixtures.js';
import { restoreTracefs, startWorkload, type Workload, tracefsMountCount } from './bpf-helpers.js';
import { instructionAddresses, nmAddress, readelfFileOffset, sumProgram, SumMap } from './probes-helpers.js';

// tracefs gets mounted on demand; leave the machine as the test found it.
const tracefsBefore = tracefsMountCount();
after(() => {
  closeAll();
  restoreTracefs(tracefsBefore);
});

const root = !isRoot() && 'needs root';
const N = 50;

function lib(): string {
  return compileC('probe_lib', ['-shared', '-fPIC'], 'libbpfkitprobe.so');
}

/** probe_funcs, PIE, linked against libbpfkitprobe.so. */
function funcsBin(): string {
  const so = lib();
  return compileC('probe_funcs', ['-DWITH_LIB', so, `-Wl,-rpath,${dirname(so)}`], 'probe_funcs');
}

function funcsBinNoPie(): string {
  return compileC('probe_funcs', ['-no-pie'], 'probe_funcs_nopie');
}

function expand(p: Provider, raw: string, env: Partial<ExpandEnv> = {}): ProbeTarget[] {
  const { provider, parts } = splitAttachPoint(raw);
  return p.expand({ kind: 'AttachPoint', loc: locOf(START, START), raw, provider, parts }, { positional: [], ...env });
}

function attachEnv(pid?: number) {
  return { pid, ncpus: onlineCpus().length, onlineCpus: onlineCpus() };
}

test('uprobe targets carry the file offsets readelf and nm give, PIE or not', () => {
  for (const bin of [funcsBin(), funcsBinNoPie()]) {
    for (const fn of ['probe_fn_a', 'probe_fn_b', 'stack_args']) {
      const [t] = expand(uprobeProvider, `uprobe:${bin}:${fn}`);
      assert.equal(t.name, `uprobe:${bin}:${fn}`);
      assert.equal(t.provider, 'uprobe');
      assert.equal(t.func, fn);
      assert.equal(t.progType, ProgType.KPROBE);
      assert.equal(t.data.offset, readelfFileOffset(bin, nmAddress(bin, fn)), `${bin}:${fn}`);
      assert.equal(t.data.retprobe, false);
      // arg0..arg5 are rdi rsi rdx rcx r8 r9 in pt_regs; uprobes have no retval.
      assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => (t.argN!(n) as { off: number }).off), [112, 104, 96, 88, 72, 64]);
      assert.equal(t.argN!(6), undefined);
      assert.equal(t.retval, undefined);
    }
    const [r] = expand(uretprobeProvider, `ur:${bin}:probe_fn_b`);
    assert.equal(r.name, `uretprobe:${bin}:probe_fn_b`);
    assert.equal(r.data.retprobe, true);
    assert.deepEqual(r.retval, { kind: 'ctx', off: 80, size: 8, signed: false });
    assert.equal(r.argN, undefined);
  }
});

test('wildcards expand to one target per function, aliases at one address once', () => {
  const bin = funcsBin();
  const names = (raw: string) => expand(uprobeProvider, raw).map((t) => t.name.slice(`uprobe:${bin}:`.length));
  assert.deepEqual(names(`uprobe:${bin}:probe_fn_*`), ['probe_fn_a', 'probe_fn_b', 'probe_fn_c']);
  // probe_alias and probe_fn_a are one function: whichever name matches first stands for both.
  const all = names(`uprobe:${bin}:probe_*`);
  assert.equal(all.length, 3);
  assert.ok(all.includes('probe_fn_b') && all.includes('probe_fn_c'));
  assert.ok(all.includes('probe_alias') !== all.includes('probe_fn_a'));
  // Listing shows every name, as bpftrace does.
  assert.deepEqual(uprobeProvider.list!(`uprobe:${bin}:probe_*`, false), ['probe_alias', 'probe_fn_a', 'probe_fn_b', 'probe_fn_c'].map((n) => `uprobe:${bin}:${n}`));
});

test('C++ names match demangled, with or without the cpp: prefix', () => {
  const bin = funcsBin();
  const mangled = expand(uprobeProvider, `uprobe:${bin}:bpfkit::foo`);
  assert.equal(mangled.length, 1);
  assert.equal(mangled[0].name, `uprobe:${bin}:_ZN6bpfkit3fooEl`);
  assert.equal(mangled[0].data.offset, readelfFileOffset(bin, nmAddress(bin, '_ZN6bpfkit3fooEl')));
  const both = expand(uprobeProvider, `uprobe:${bin}:cpp:bpfkit::*`).map((t) => t.name);
  assert.deepEqual(both, [`uprobe:${bin}:cpp:bpfkit::bar`, `uprobe:${bin}:cpp:bpfkit::foo`]);
  // With a parameter list in the pattern, the parameters are matched too.
  assert.equal(expand(uprobeProvider, `uprobe:${bin}:cpp:"bpfkit::foo(long)"`).length, 1);
  assert.equal(expand(uprobeProvider, `uprobe:${bin}:cpp:bpfkit::foo(int)*`).length, 0);
  assert.deepEqual(uprobeProvider.list!(`uprobe:${bin}:cpp:bpfkit::*`, false), [`uprobe:${bin}:cpp:"bpfkit::bar"`, `uprobe:${bin}:cpp:"bpfkit::foo"`]);
});

test('func+offset must start an instruction; addresses must be inside a function', () => {
  const bin = funcsBin();
  const start = nmAddress(bin, 'stack_args');
  const insns = instructionAddresses(bin, start, start + 32);
  const boundary = insns[1] - start;
  const [t] = expand(uprobeProvider, `uprobe:${bin}:stack_args+${boundary}`);
  assert.equal(t.name, `uprobe:${bin}:stack_args+${boundary}`);
  assert.equal(t.data.offset, readelfFileOffset(bin, start + boundary));
  const middle = [...Array(boundary).keys()].find((o) => o > 0 && !insns.includes(start + o));
  assert.ok(middle, 'the first instruction is longer than a byte');
  assert.throws(() => expand(uprobeProvider, `uprobe:${bin}:stack_args+${middle}`), /Could not add uprobe into middle of instruction/);
  assert.equal(expand(uprobeProvider, `uprobe:${bin}:stack_args+${middle}`, { unsafe: true }).length, 1);
  assert.throws(() => expand(uprobeProvider, `uprobe:${bin}:stack_args+4096`), /Offset outside the function bounds \('stack_args' size is \d+\)/);
  const [a] = expand(uprobeProvider, `uprobe:${bin}:0x${start.toString(16)}`);
  assert.equal(a.func, 'stack_args');
  assert.equal(a.data.offset, readelfFileOffset(bin, start));
});

test('binaries resolve through PATH and libraries through the loader cache', () => {
  const [bash] = expand(uprobeProvider, 'uprobe:bash:readline');
  const which = execFileSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();
  assert.equal(bash.name, `uprobe:${which}:readline`);
  const [malloc] = expand(uprobeProvider, 'uprobe:libc:malloc');
  const ldconfig = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const libc = /libc\.so\.6 \(libc6,x86-64\) => (\S+)/.exec(ldconfig)![1];
  assert.equal(malloc.name, `uprobe:${libc}:malloc`);
  assert.equal(malloc.data.offset, readelfFileOffset(libc, nmAddress(libc, 'malloc', true)));
});

test('unknown binaries and symbols are errors that say which', () => {
  const bin = funcsBin();
  assert.throws(() => expand(uprobeProvider, `uprobe:${bin}:no_such_function`), (e: unknown) => e instanceof ProbeError && e.message === `Could not resolve symbol: ${bin}:no_such_function`);
  assert.throws(() => expand(uprobeProvider, 'uprobe:/no/such/file:f'), /uprobe target file '\/no\/such\/file' does not exist/);
  assert.throws(() => expand(uprobeProvider, 'uprobe:no-such-program-anywhere:f'), /uprobe target 'no-such-program-anywhere' does not exist/);
  assert.throws(() => expand(uprobeProvider, 'uprobe:main'), /requires 2 arguments/);
  assert.equal(expand(uprobeProvider, `uprobe:${bin}:zzz_nothing_*`).length, 0);
});

/** Runs `bin N` once with `prog` attached to `target` through the provider. */
async function runAttached(p: Provider, target: ProbeTarget, m: SumMap, reads: ArgRead[], bin: string, pidFilter = false): Promise<void> {
  const prog = sumProgram(m, target.progType, reads);
  const w = startWorkload(bin, [String(N)]);
  m.setTgid(w.pid);
  const a = p.attach!(prog.fd, target, attachEnv(pidFilter ? w.pid : undefined));
  try {
    w.go();
    await w.done;
  } finally {
    a.close();
    prog.close();
  }
}

test('a uprobe counts every call and reads register arguments', { skip: root }, async () => {
  for (const bin of [funcsBin(), funcsBinNoPie()]) {
    const [t] = expand(uprobeProvider, `uprobe:${bin}:probe_fn_b`);
    const m = new SumMap(1);
    await runAttached(uprobeProvider, t, m, [t.argN!(0)!], bin);
    assert.equal(m.count, 2 * N);
    assert.equal(m.sum(0), BigInt(N * (N - 1))); // 2 * sum(0..N-1)
    m.close();
  }
});

test('stack-passed arguments (arg6, arg7) read through argRead', { skip: root }, async () => {
  const bin = funcsBin();
  const [t] = expand(uprobeProvider, `uprobe:${bin}:stack_args`);
  const reads = [0, 5, 6, 7].map((n) => t.argRead!(n)!);
  assert.equal(reads[2].kind, 'mem');
  const m = new SumMap(reads.length);
  await runAttached(uprobeProvider, t, m, reads, bin);
  assert.equal(m.count, N);
  const tri = (N * (N - 1)) / 2;
  assert.deepEqual([0, 1, 2, 3].map((k) => m.sum(k)), [BigInt(tri), BigInt(5 * N), BigInt(100 * N + tri), BigInt(200 * N + tri)]);
  m.close();
});

test('a uretprobe sees every return value in rax', { skip: root }, async () => {
  const bin = funcsBin();
  const [t] = expand(uretprobeProvider, `uretprobe:${bin}:probe_fn_b`);
  const m = new SumMap(1);
  await runAttached(uretprobeProvider, t, m, [t.retval!], bin);
  assert.equal(m.count, 2 * N);
  assert.equal(m.sum(0), BigInt(N * (N - 1) + 2 * N)); // 2 * sum(i + 1)
  m.close();
});

test('a shared library function is probed in the library file', { skip: root }, async () => {
  const bin = funcsBin();
  const so = lib();
  const [t] = expand(uprobeProvider, `uprobe:${so}:bpfkit_lib_add`);
  assert.equal(t.data.offset, readelfFileOffset(so, nmAddress(so, 'bpfkit_lib_add')));
  const m = new SumMap(2);
  await runAttached(uprobeProvider, t, m, [t.argN!(0)!, t.argN!(1)!], bin);
  assert.equal(m.count, N);
  assert.deepEqual([m.sum(0), m.sum(1)], [BigInt((N * (N - 1)) / 2), BigInt(10 * N)]);
  m.close();
});

test('-p finds a library by name in the process and filters on it', { skip: root }, async () => {
  const bin = funcsBin();
  const w = startWorkload(bin, [String(N)]);
  const other = startWorkload(bin, [String(N)]);
  try {
    const [t] = expand(uprobeProvider, 'uprobe:libbpfkitprobe:bpfkit_lib_add', { pid: w.pid });
    assert.equal(t.name, `uprobe:${lib()}:bpfkit_lib_add`);
    const m = new SumMap(0);
    // Counting every process: only the pid filter keeps `other` out.
    m.setTgid(w.pid);
    const prog = sumProgram(m, t.progType, []);
    const all = new SumMap(0);
    all.setTgid(other.pid);
    const progOther = sumProgram(all, t.progType, []);
    const a = uprobeProvider.attach!(prog.fd, t, attachEnv(w.pid));
    const b = uprobeProvider.attach!(progOther.fd, t, attachEnv(w.pid));
    w.go();
    other.go();
    await Promise.all([w.done, other.done]);
    a.close();
    b.close();
    assert.equal(m.count, N);
    assert.equal(all.count, 0);
  } finally {
    w.child.kill();
    other.child.kill();
  }
});

test('-l lists functions sorted, and matches bpftrace for /bin/bash', (t) => {
  const bin = funcsBin();
  assert.deepEqual(listProbes(`uprobe:${bin}:probe_fn_*`, false, providers({ maxStrlen: 64 })), ['a', 'b', 'c'].map((x) => `uprobe:${bin}:probe_fn_${x}`));
  let reference: string;
  try {
    reference = execFileSync('bpftrace', ['-l', 'uprobe:/bin/bash:read*'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    t.skip('bpftrace is not installed to compare with');
    return;
  }
  assert.equal(listProbes('uprobe:/bin/bash:read*', false, providers({ maxStrlen: 64 })).map((l) => `${l}\n`).join(''), reference);
});

test('-l of a library matches bpftrace, versioned .symtab names (memcpy@GLIBC_2.2.5) included', (t) => {
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  let reference: string;
  try {
    reference = execFileSync('bpftrace', ['-l', `uprobe:${libc}:*`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
  } catch {
    t.skip('bpftrace is not installed to compare with');
    return;
  }
  assert.equal(listProbes(`uprobe:${libc}:*`, false, providers({ maxStrlen: 64 })).map((l) => `${l}\n`).join(''), reference);
});

// ------------------------------------------------------------ whole programs

function mapEntries(maps: { name: string; entries: { key: unknown[]; value: unknown }[] }[], name: string): [string, unknown][] {
  const m = maps.find((x) => x.name === name);
  if (!m) return [];
  return m.entries.map((e) => [e.key.map((k) => String((k as { value: unknown }).value)).join(','), e.value]).sort() as [string, unknown][];
}

async function traceRun(program: string, bin: string, opts: { pid?: boolean; alongside?: Workload } = {}): Promise<{ name: string; entries: { key: unknown[]; value: unknown }[] }[]> {
  const w = startWorkload(bin, [String(N)]);
  try {
    const tr = await Trace.start(program.replaceAll('$PID', String(w.pid)), opts.pid ? { pid: w.pid } : {});
    w.go();
    opts.alongside?.go();
    await Promise.all([w.done, opts.alongside?.done]);
    const r = await tr.stop();
    assert.equal(r.exitCode, 0);
    return r.maps as never;
  } finally {
    w.child.kill();
  }
}

test('bpftrace program: a wildcard uprobe counts each function by probe and func', { skip: root }, async () => {
  const bin = funcsBin();
  const maps = await traceRun(`uprobe:${bin}:probe_fn_* /pid == $PID/ { @[probe, func] = count(); }`, bin);
  assert.deepEqual(mapEntries(maps, '@'), [
    [`uprobe:${bin}:probe_fn_a,probe_fn_a`, BigInt(N)],
    [`uprobe:${bin}:probe_fn_b,probe_fn_b`, BigInt(2 * N)],
    [`uprobe:${bin}:probe_fn_c,probe_fn_c`, BigInt(3 * N)],
  ]);
});

/** The bpf links this process holds, by link_type (fdinfo). */
function ownLinks(): { type: string; count: number }[] {
  const out: { type: string; count: number }[] = [];
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info = '';
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const type = /^link_type:\s*(\S+)/m.exec(info)?.[1];
    if (type) out.push({ type, count: Number(/^uprobe_cnt:\s*(\d+)/m.exec(info)?.[1] ?? 1) });
  }
  return out;
}

test('bpftrace program: a wildcard uprobe with one program for all functions uses one uprobe_multi link', { skip: root }, async (t) => {
  const bin = funcsBin();
  const w = startWorkload(bin, [String(N)]);
  try {
    const tr = await Trace.start(`uprobe:${bin}:probe_fn_* /pid == ${w.pid}/ { @ = count(); } uretprobe:${bin}:probe_fn_* /pid == ${w.pid}/ { @r = sum(retval); }`);
    const links = ownLinks();
    if (hasUprobeMulti()) {
      // Entry and return: one link each, three functions in each.
      assert.deepEqual(links.filter((l) => l.type.endsWith('probe_multi')).sort((a, b) => a.type.localeCompare(b.type)), [{ type: 'uprobe_multi', count: 3 }, { type: 'uretprobe_multi', count: 3 }]);
    } else {
      t.diagnostic('this kernel has no uprobe_multi links: one perf event per function');
    }
    w.go();
    await w.done;
    const r = await tr.stop();
    assert.equal(r.exitCode, 0);
    assert.deepEqual(mapEntries(r.maps as never, '@'), [['', BigInt(6 * N)]]);
    // probe_fn_a(i) = i, probe_fn_b(i) = i + 1 (twice), probe_fn_c(i) = i + 2 (three times).
    const tri = (N * (N - 1)) / 2;
    assert.deepEqual(mapEntries(r.maps as never, '@r'), [['', BigInt(6 * tri + 2 * N + 6 * N)]]);
    assert.deepEqual(ownLinks().filter((l) => l.type.endsWith('probe_multi')), []);
  } finally {
    w.child.kill();
  }
});

test('bpftrace program: uprobe args and uretprobe retval', { skip: root }, async () => {
  const bin = funcsBin();
  const maps = await traceRun(
    `uprobe:${bin}:_ZN6bpfkit3fooEl /pid == $PID/ { @args = sum(arg0); } uretprobe:${bin}:bpfkit::foo /pid == $PID/ { @ret = sum(retval); @n = count(); }`,
    bin,
  );
  const tri = BigInt((N * (N - 1)) / 2);
  assert.deepEqual(mapEntries(maps, '@args'), [['', tri]]);
  assert.deepEqual(mapEntries(maps, '@ret'), [['', 3n * tri]]);
  assert.deepEqual(mapEntries(maps, '@n'), [['', BigInt(N)]]);
});

test('bpftrace program: -p limits a library uprobe to that process', { skip: root }, async () => {
  const bin = funcsBin();
  const other = startWorkload(bin, [String(N)]);
  try {
    const maps = await traceRun(`uprobe:${lib()}:bpfkit_lib_add { @[arg1] = count(); }`, bin, { pid: true, alongside: other });
    assert.deepEqual(mapEntries(maps, '@'), [['10', BigInt(N)]]);
  } finally {
    other.child.kill();
  }
});
