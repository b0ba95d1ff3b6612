// The language's kernel-function probes on the 6.1 guest, as a user writes
// them: fentry/fexit on a module's function (9p, which the guest's root
// filesystem runs on), kprobes served by fentry when kprobes are turned off
// (BPFKIT_DISABLE_FEATURES=kprobe), and wildcard kprobes with the right
// function per event and nothing left in the kernel afterwards. Every count
// is exact: programs filter on the pid of a workload (fixtures/kcalls.c) that
// makes a known number of calls, and the workload is held until attached.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AttachType, closeAll, hasKprobeMulti, hasKprobes, ProgType } from '../../src/bpf/index.js';
import { Trace, compileProgram } from '../../src/index.js';
import type { MapSnapshot, Value } from '../../src/output/value.js';
import { ksym } from '../../src/symbols/kallsyms.js';
import { bpftool, startWorkload, type Workload } from '../kernel/bpf-helpers.js';
import { guestOnly, kernelFixture } from './guest-env.js';
import { withWorkload } from './programs.js';

after(() => closeAll());

/** A map's entries as { 'key text': count }, keys joined with ',' (ksym keys by their symbol). */
function entries(maps: MapSnapshot[], name: string): Record<string, number> {
  const m = maps.find((x) => x.name === name);
  assert.ok(m, `map ${name} printed (have ${maps.map((x) => x.name).join(' ')})`);
  const text = (v: Value): string => {
    switch (v.kind) {
      case 'str': return v.value;
      case 'probe': return v.name;
      case 'int': return String(v.value);
      case 'ksym': return v.symbol ?? ksym(v.addr)?.name ?? `0x${v.addr.toString(16)}`;
      case 'tuple': return v.items.map(text).join(',');
      default: return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    }
  };
  const out: Record<string, number> = {};
  for (const e of m.entries) {
    const val = e.value as unknown;
    out[e.key.map(text).join(',')] = Number(typeof val === 'bigint' ? val : (val as { value: bigint }).value);
  }
  return out;
}

/** Waits until `pid` sits in read(2) on its stdin: its loader is done, its work not begun. */
async function blockedInRead(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (/^0 /.test(readFileSync(`/proc/${pid}/syscall`, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never blocked in read`);
}

/** Starts the held workload, attaches `program` ($PID is its pid), lets it run, returns the maps. */
async function traceRun(program: string, args: string[]): Promise<{ maps: MapSnapshot[]; w: Workload }> {
  const w = startWorkload(kernelFixture('kcalls'), args);
  return withWorkload(w, async () => {
    await blockedInRead(w.pid);
    const t = await Trace.start(program.replaceAll('$PID', String(w.pid)));
    w.go();
    await w.done;
    const r = await t.stop();
    assert.equal(r.exitCode, 0);
    return { maps: r.maps, w };
  });
}

/** Runs `body` with BPFKIT_DISABLE_FEATURES set, restoring the environment after. */
async function withDisabled<T>(features: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.BPFKIT_DISABLE_FEATURES;
  process.env.BPFKIT_DISABLE_FEATURES = features;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.BPFKIT_DISABLE_FEATURES;
    else process.env.BPFKIT_DISABLE_FEATURES = before;
  }
}

// A file on the guest's 9p root (the workload binary itself): statx on it goes
// through 9p's v9fs_vfs_getattr_dotl with the caller's mask.
const STATX_SIZE = 0x200;

test('fentry/fexit on a module function (9p): module BTF object at load, typed args, retval', { skip: guestOnly, timeout: 120_000 }, async () => {
  const N = 40;
  const file = kernelFixture('kcalls');
  const src = `
    fentry:9p:v9fs_vfs_getattr_dotl /pid == $PID/ { @mask[args.request_mask] = count(); @probe[probe] = count(); }
    fexit:v9fs_vfs_getattr_dotl /pid == $PID && args.request_mask == ${STATX_SIZE}/ { @ret[retval] = count(); @fn[func] = count(); }`;
  const c = compileProgram(src.replaceAll('$PID', '1'));
  assert.deepEqual(c.probes.map((p) => [p.target.name, p.target.progType, p.target.attachBtfModule]), [
    ['fentry:9p:v9fs_vfs_getattr_dotl', ProgType.TRACING, '9p'],
    ['fexit:9p:v9fs_vfs_getattr_dotl', ProgType.TRACING, '9p'],
  ], 'plain fexit:FUNC finds the function in the 9p module');
  const { maps } = await traceRun(src, ['statx', file, String(STATX_SIZE), String(N)]);
  assert.equal(entries(maps, '@mask')[String(STATX_SIZE)], N, 'args.request_mask from the module function');
  assert.deepEqual(entries(maps, '@probe'), { 'fentry:9p:v9fs_vfs_getattr_dotl': Object.values(entries(maps, '@mask')).reduce((a, b) => a + b) });
  assert.deepEqual(entries(maps, '@ret'), { 0: N }, 'fexit retval');
  assert.deepEqual(entries(maps, '@fn'), { v9fs_vfs_getattr_dotl: N });
});

test('kprobe/kretprobe served by fentry/fexit when kprobes are turned off: probe, func, argN, retval', { skip: guestOnly, timeout: 120_000 }, async () => {
  assert.equal(hasKprobes(), true, 'the guest has kprobes (the switch is what turns them off)');
  const N = 30;
  const M = 25;
  const COUNT = 4321;
  const src = `
    kprobe:vfs_read /pid == $PID/ { @arg2[arg2] = count(); @p[probe, func] = count(); }
    kretprobe:vfs_read /pid == $PID/ { @ret[retval] = count(); @rp[probe, func] = count(); }
    kprobe:9p:v9fs_vfs_getattr_dotl /pid == $PID/ { @mask[arg3] = count(); @mp[probe] = count(); }
    kprobe:__do_sys_getp* /pid == $PID/ { @wf[func] = count(); }`;
  await withDisabled('kprobe', async () => {
    assert.equal(hasKprobes(), false, 'BPFKIT_DISABLE_FEATURES=kprobe hides kprobes');
    const c = compileProgram(src.replaceAll('$PID', '1'));
    assert.deepEqual(c.probes.slice(0, 3).map((p) => [p.target.name, p.target.progType, p.target.attachBtfModule]), [
      ['kprobe:vfs_read', ProgType.TRACING, undefined],
      ['kretprobe:vfs_read', ProgType.TRACING, undefined],
      ['kprobe:9p:v9fs_vfs_getattr_dotl', ProgType.TRACING, '9p'],
    ]);
    // A wildcard: kprobe_multi does not need the kprobe PMU (6.12); without it, fentry per function (6.1).
    const wild = c.probes.filter((p) => p.probe === c.ast.probes[3]);
    if (hasKprobeMulti()) assert.deepEqual(wild.map((p) => [p.target.progType, p.target.expectedAttachType]), [[ProgType.KPROBE, AttachType.TRACE_KPROBE_MULTI]]);
    else assert.ok(wild.length >= 3 && wild.every((p) => p.target.progType === ProgType.TRACING), wild.map((p) => p.target.name).join(' '));
    const { maps } = await traceRun(src, [
      'read', '/dev/zero', String(COUNT), String(N), 'statx', kernelFixture('kcalls'), String(STATX_SIZE), String(M), 'getppid', '7', 'getpid', '3',
    ]);
    assert.deepEqual(entries(maps, '@wf'), { __do_sys_getppid: 7, __do_sys_getpid: 3 });
    assert.deepEqual(entries(maps, '@arg2'), { [COUNT]: N }, 'arg2 of vfs_read is the count');
    assert.deepEqual(entries(maps, '@p'), { 'kprobe:vfs_read,vfs_read': N });
    assert.deepEqual(entries(maps, '@ret'), { [COUNT]: N }, 'kretprobe retval');
    assert.deepEqual(entries(maps, '@rp'), { 'kretprobe:vfs_read,vfs_read': N });
    assert.equal(entries(maps, '@mask')[String(STATX_SIZE)], M, 'arg3 of the module function');
    assert.deepEqual(Object.keys(entries(maps, '@mp')), ['kprobe:9p:v9fs_vfs_getattr_dotl']);
  });
  assert.equal(hasKprobes(), true, 'the switch is read per call');
});

/** Programs and links whose program name starts with one of `prefixes`, from bpftool. */
function kernelObjects(prefixes: string[]): { progs: number[]; links: number[] } {
  const progs = bpftool<{ id: number; name?: string }[]>('prog', 'show')
    .filter((p) => p.name && prefixes.some((x) => p.name!.startsWith(x)))
    .map((p) => p.id);
  const links = bpftool<{ id: number; prog_id: number }[]>('link', 'show').filter((l) => progs.includes(l.prog_id)).map((l) => l.id);
  return { progs, links };
}

test('wildcard kprobes: exact per-function counts, func and probe per event, nothing left after exit', { skip: guestOnly, timeout: 180_000 }, async () => {
  const [A, B, C] = [30, 20, 10];
  // The SYSCALL_DEFINE0 bodies __do_sys_getpid, __do_sys_getppid and
  // __do_sys_getpgrp (ftrace lists them under these names, not under their
  // __x64_sys_ aliases); the workload calls each a known number of times.
  const src = `
    kprobe:__do_sys_getp* /pid == $PID/ { @f[func] = count(); }
    kretprobe:__do_sys_getp* /pid == $PID/ { @r[probe] = count(); }
    kretprobe:__do_sys_getp* /pid == $PID/ { @ret[func, retval] = count(); }`;
  const c = compileProgram(src.replaceAll('$PID', '1'));
  const entryTargets = c.probes.filter((p) => p.target.provider === 'kprobe');
  const retTargets = c.probes.filter((p) => p.probe === c.ast.probes[1]);
  const retFuncTargets = c.probes.filter((p) => p.probe === c.ast.probes[2]);
  // `probe` needs a program per function whatever the kernel has.
  assert.ok(retTargets.length >= 3 && retTargets.every((p) => !p.target.funcIp), retTargets.map((p) => p.target.name).join(' '));
  if (hasKprobeMulti()) {
    // Debian's 6.12 has fprobe: one program on one kprobe_multi link per wildcard (entry and return).
    for (const t of [entryTargets, retFuncTargets]) {
      assert.equal(t.length, 1, 'one kprobe_multi program for a wildcard');
      assert.equal(t[0].target.expectedAttachType, AttachType.TRACE_KPROBE_MULTI);
      assert.equal(t[0].target.funcIp, true);
      assert.ok(t[0].target.funcs!.length >= 3);
    }
  } else {
    // Debian's 6.1 has no fprobe (CONFIG_FPROBE off), so no kprobe_multi: one perf-event kprobe each.
    assert.equal(entryTargets.length, retTargets.length, 'one program per function without kprobe_multi');
    assert.equal(retFuncTargets.length, retTargets.length);
    assert.ok([...entryTargets, ...retFuncTargets].every((p) => p.target.progType === ProgType.KPROBE && !p.target.funcIp));
  }
  // A multi program's func is an address: comparing it with a string needs per-function programs.
  const cmp = compileProgram('kprobe:__do_sys_getp* /func == "__do_sys_getpid"/ { }');
  assert.ok(cmp.probes.length >= 3 && cmp.probes.every((p) => !p.target.funcIp), 'func compared with a string: one program per function');
  const names = c.probes.map((p) => p.target.name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15));
  const prefixes = [...new Set(names)];

  const w = startWorkload(kernelFixture('kcalls'), ['getppid', String(A), 'getpid', String(B), 'getpgrp', String(C)]);
  let during: { progs: number[]; links: number[] } | undefined;
  const maps = await withWorkload(w, async () => {
    await blockedInRead(w.pid);
    const t0 = Date.now();
    const t = await Trace.start(src.replaceAll('$PID', String(w.pid)));
    const attachMs = Date.now() - t0;
    during = kernelObjects(prefixes);
    w.go();
    await w.done;
    const r = await t.stop();
    process.stderr.write(`# ${c.probes.length} programs (${hasKprobeMulti() ? 'kprobe_multi' : 'perf-event kprobes'}) attached in ${attachMs} ms\n`);
    return r.maps;
  });
  assert.deepEqual(entries(maps, '@f'), { __do_sys_getppid: A, __do_sys_getpid: B, __do_sys_getpgrp: C });
  assert.deepEqual(entries(maps, '@r'), { 'kretprobe:__do_sys_getppid': A, 'kretprobe:__do_sys_getpid': B, 'kretprobe:__do_sys_getpgrp': C });
  // Return values: getppid is this process, getpid the workload, getpgrp its group (this one's).
  const pgrp = Number(readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ')[2]);
  assert.deepEqual(entries(maps, '@ret'), {
    [`__do_sys_getppid,${process.pid}`]: A, [`__do_sys_getpid,${w.pid}`]: B, [`__do_sys_getpgrp,${pgrp}`]: C,
  });
  assert.equal(during!.progs.length, c.probes.length, 'every program was in the kernel while tracing');
  assert.equal(during!.links.length, c.probes.length, 'one bpf link per program (perf_event links on 6.1)');
  const left = kernelObjects(prefixes);
  assert.deepEqual(left, { progs: [], links: [] }, 'no program or link left behind');
});
