// ustack/kstack and profile through the CLI, on a fixture whose call chain is
// known (main -> level1 -> level2 -> level3 -> raw_getppid -> syscall): frames
// name the right functions at the offsets objdump gives, in the three print
// modes, for PIE and non-PIE builds, printed after the process has exited;
// the text is bpftrace 0.17's where it can symbolise the same process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/fixtures.js';
import { disassemble, haveBpftrace, parseMaps, runCli, startProcess, stkChain, type PrintedEntry } from './issue5-lib.js';

const root = !isRoot() && 'needs root';
const N = 7;

/** The user frames a getppid from `now` mode must show, top first, as `func+off` (main's offset: any call of level1). */
function expectedChain(bin: string): (string | RegExp)[] {
  const fns = disassemble(bin);
  const ret = (fn: string, callee: string): number[] => {
    const r = fns.get(fn)?.returns.get(callee);
    assert.ok(r?.length, `objdump: ${fn} calls ${callee}`);
    return r!;
  };
  const mainRets = ret('main', 'level1');
  return [
    `raw_getppid+${ret('raw_getppid', 'syscall')[0]}`,
    `level3+${ret('level3', 'raw_getppid')[0]}`,
    `level2+${ret('level2', 'level3')[0]}`,
    `level1+${ret('level1', 'level2')[0]}`,
    new RegExp(`^main\\+(${mainRets.join('|')})$`),
    /^__libc_start_call_main\+\d+$/,
  ];
}

function assertFrames(frames: string[], want: (string | RegExp)[], what: string): void {
  assert.equal(frames.length, want.length, `${what}: ${frames.join(' | ')}`);
  want.forEach((w, i) => (typeof w === 'string' ? assert.equal(frames[i], w, what) : assert.match(frames[i], w, what)));
}

function only(entries: PrintedEntry[], map: string): PrintedEntry {
  const es = entries.filter((e) => e.map === map);
  assert.equal(es.length, 1, `one ${map} entry: ${JSON.stringify(es)}`);
  return es[0];
}

const PROGRAM = `tracepoint:syscalls:sys_enter_getppid /pid == cpid/ {
  @u[ustack] = count(); @p[ustack(perf)] = count(); @t[ustack(3)] = count(); @k[kstack] = count();
}`;

for (const pie of [false, true]) {
  test(`ustack names main -> level1 -> level2 -> level3 at objdump's offsets, after exit (${pie ? 'PIE' : 'non-PIE'}, -c)`, { skip: root }, async () => {
    const bin = stkChain(pie);
    const want = expectedChain(bin);
    // The fixture lives 300 ms after its calls: enough for the runtime to read its mappings, gone before printing.
    const r = await runCli(['-e', PROGRAM, '-c', `${bin} now ${N} 300`]);
    assert.equal(r.code, 0, r.stderr);
    const maps = parseMaps(r.stdout);

    const u = only(maps, '@u');
    assert.equal(u.value, N);
    assertFrames(u.frames, want, 'ustack');

    const t = only(maps, '@t');
    assert.equal(t.value, N);
    assert.deepEqual(t.frames, u.frames.slice(0, 3));

    // perf mode: `<hex address> <func+off> (<file>)`, the address consistent with the ELF and one load bias per file.
    const p = only(maps, '@p');
    assert.equal(p.value, N);
    const fns = disassemble(bin);
    const biases = new Set<number>();
    p.frames.forEach((line, i) => {
      const m = /^([0-9a-f]+) (\S+) \((\S+)\)$/.exec(line);
      assert.ok(m, `perf frame: ${line}`);
      assert.equal(m[2], u.frames[i]);
      if (i < 5) {
        assert.equal(m[3], bin);
        const [fn, off] = m[2].split('+');
        biases.add(parseInt(m[1], 16) - fns.get(fn)!.start - Number(off));
      } else assert.match(m[3], /\/libc\.so\.6$/);
    });
    assert.equal(biases.size, 1, 'one load bias for the binary');
    const [bias] = biases;
    if (pie) assert.ok(bias > 0 && bias % 4096 === 0, `PIE load bias ${bias.toString(16)}`);
    else assert.equal(bias, 0);

    const k = only(maps, '@k');
    assert.equal(k.value, N);
    assert.ok(k.frames.length >= 2);
    for (const f of k.frames) assert.match(f, /^\w[\w.]*\+\d+$/, 'kernel frames are symbolised');
    assert.ok(k.frames.some((f) => /^(do_syscall_64|entry_SYSCALL_64\w*)\+\d+$/.test(f)), k.frames.join(' | '));
  });

  test(`stacks print as bpftrace 0.17 prints them for a live process (${pie ? 'PIE' : 'non-PIE'})`, { skip: root || (!haveBpftrace() && 'bpftrace is not installed to compare with') }, async () => {
    const bin = stkChain(pie);
    const proc = await startProcess(bin, ['slow', '50']);
    try {
      const program = `tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
        @u[ustack] = count(); @p[ustack(perf)] = count(); @t[ustack(3)] = count();
        @k[kstack] = count(); @kp[kstack(perf)] = count(); @k2[kstack(2)] = count(); exit();
      }`;
      const ours = await runCli(['-e', program, String(proc.pid)]);
      const theirs = await runCli(['-e', program, String(proc.pid)], { tool: 'bpftrace' });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(theirs.code, 0, theirs.stderr);
      // exit() is asynchronous in both: a second event may be counted.
      const norm = (s: string) => s.replace(/\]: \d+$/gm, ']: N');
      assert.equal(norm(ours.stdout), norm(theirs.stdout));
      assertFrames(only(parseMaps(ours.stdout), '@u').frames.slice(0, 4), expectedChain(bin).slice(0, 4), 'ustack');
    } finally {
      await proc.stop();
    }
  });
}

test('profile:hz:99 attributes a busy loop to its function by name (usym(reg("ip")), -c)', { skip: root }, async () => {
  const bin = stkChain(false);
  const r = await runCli(['-e', 'profile:hz:99 /pid == cpid/ { @[usym(reg("ip"))] = count(); }', '-c', `${bin} spin 1500`]);
  assert.equal(r.code, 0, r.stderr);
  // usym keys are addresses: one function prints on several lines, so sum by name.
  const byName = new Map<string, number>();
  for (const e of parseMaps(r.stdout)) if (e.map === '@') byName.set(e.key, (byName.get(e.key) ?? 0) + e.value);
  const ranked = [...byName].sort((a, b) => b[1] - a[1]);
  assert.equal(ranked[0]?.[0], 'busy_loop', r.stdout);
  // 99 Hz for 1.5 s is about 148 samples; allow for a loaded machine.
  assert.ok(ranked[0][1] >= 60, `busy_loop: ${ranked[0][1]} samples`);
});

test('ustack(2) in profile: samples in the loop show busy_loop on top and main below it (PIE)', { skip: root }, async () => {
  const bin = stkChain(true);
  const r = await runCli(['-e', 'profile:hz:99 /pid == cpid/ { @[ustack(2)] = count(); }', '-c', `${bin} spin 800`]);
  assert.equal(r.code, 0, r.stderr);
  const loop = parseMaps(r.stdout).filter((e) => e.frames[0]?.startsWith('busy_loop+'));
  const total = loop.reduce((a, e) => a + e.value, 0);
  assert.ok(total >= 30, `busy_loop samples: ${total}\n${r.stdout}`);
  for (const e of loop) assert.match(e.frames[1], /^main\+\d+$/);
});

test('a process first seen before its exec is symbolised with its new mappings, and its old frames with the old', { skip: root }, async () => {
  const bin = stkChain(false);
  // The shell is seen (in wait4) 100 ms before it execs the fixture, which then exits before printing.
  const program = 'tracepoint:syscalls:sys_enter_wait4 /pid == cpid/ { @w[ustack(1)] = count(); } tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @g[ustack(3)] = count(); }';
  const r = await runCli(['-e', program, '-c', `/bin/sh -c 'sleep 0.1; exec ${bin} now ${N} 300'`]);
  assert.equal(r.code, 0, r.stderr);
  const maps = parseMaps(r.stdout);
  const g = maps.filter((e) => e.map === '@g' && e.frames[0].startsWith('raw_getppid'));
  assert.equal(g.length, 1, r.stdout);
  assert.equal(g[0].value, N);
  assertFrames(g[0].frames, expectedChain(bin).slice(0, 3), 'after exec');
  const w = maps.filter((e) => e.map === '@w');
  assert.ok(w.length >= 1, r.stdout);
  for (const e of w) assert.match(e.frames[0], /^\w+\+\d+$/, 'the shell\'s frame resolves in its own libc');
});
