// Kernel-side providers: kprobe/kretprobe and fentry/fexit (which this
// machine lacks, so the tests here check the error and its tracepoint hint,
// and the real ones run on the second kernel), software and hardware perf
// events, watchpoints, iterators, and -l output against bpftrace's.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import {
  alu64Imm, assemble, atomic, call, exit, jmpImm, jmpReg, label, ldMapFd, ldx, mov64Imm, mov64Reg, st,
  R0, R1, R2, R6, R10,
} from '../../src/bpf/asm/index.js';
import { closeAll, hasFentry, hasFexit, hasHardwarePmu, hasKprobes, onlineCpus, Program, ProgType } from '../../src/bpf/index.js';
import { Btf } from '../../src/btf/index.js';
import { Trace, compileProgram } from '../../src/index.js';
import { splitAttachPoint } from '../../src/lang/attach.js';
import { locOf, START } from '../../src/lang/loc.js';
import { providers, findProvider } from '../../src/probes/index.js';
import '../../src/probes/more.js';
import { listProbes } from '../../src/probes/list.js';
import { tracepointAlternatives } from '../../src/probes/fentry.js';
import { hasIterators } from '../../src/probes/iter.js';
import { listEvents } from '../../src/probes/tracefs.js';
import { ProbeError, type ProbeTarget } from '../../src/probes/provider.js';
import { compileC, isRoot } from '../lib/fixtures.js';
import { restoreTracefs, startWorkload, uniquePrefix, type Workload, tracefsMountCount } from './bpf-helpers.js';
import { nmAddress, SumMap } from './probes-helpers.js';

// tracefs gets mounted on demand; leave the machine as the test found it.
const tracefsBefore = tracefsMountCount();
after(() => {
  closeAll();
  restoreTracefs(tracefsBefore);
});

const root = !isRoot() && 'needs root';
const PROVIDERS = providers({ maxStrlen: 64 });

function expand(raw: string, pid?: number): ProbeTarget[] {
  const { provider, parts } = splitAttachPoint(raw);
  const p = findProvider(PROVIDERS, provider);
  if (!p) throw new Error(`no provider ${provider}`);
  return p.expand({ kind: 'AttachPoint', loc: locOf(START, START), raw, provider, parts }, { positional: [], pid });
}

const haveEvents = (() => {
  try {
    return new Set(listEvents().map((e) => `tracepoint:${e.category}:${e.name}`));
  } catch {
    return new Set<string>();
  }
})();

/** Waits until `pid` sits in read(2) on its stdin: past the loader's own syscalls, before its work. */
async function blockedInRead(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (/^0 /.test(readFileSync(`/proc/${pid}/syscall`, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never blocked in read`);
}

async function traceMaps(program: string, w: Workload, opts: { pid?: number } = {}): Promise<Map<string, unknown>> {
  await blockedInRead(w.pid);
  const t = await Trace.start(program.replaceAll('$PID', String(w.pid)), opts);
  w.go();
  await w.done;
  const r = await t.stop();
  assert.equal(r.exitCode, 0);
  return new Map(r.maps.map((m) => [m.name, m.entries.length === 1 && m.entries[0].key.length === 0 ? m.entries[0].value : m.entries]));
}

// ------------------------------------------------------------ kprobe, fentry

const noKprobeNoFentry = hasKprobes() || hasFentry() ? 'this kernel has kprobes or fentry: the no-kprobe error does not apply' : false;

test('kprobes where neither kprobes nor fentry work: the error says so and names tracepoints', { skip: noKprobeNoFentry }, () => {
  const cases: [string, string[]][] = [
    ['kprobe:vfs_read', ['tracepoint:syscalls:sys_enter_read']],
    ['kretprobe:vfs_read', ['tracepoint:syscalls:sys_exit_read']],
    ['k:do_sys_openat2', ['tracepoint:syscalls:sys_enter_openat']],
    ['kprobe:__x64_sys_getppid', ['tracepoint:syscalls:sys_enter_getppid']],
    ['kprobe:ksys_write', ['tracepoint:syscalls:sys_enter_write']],
    ['kprobe:tcp_retransmit_skb', ['tracepoint:tcp:tcp_retransmit_skb']],
    ['kprobe:tcp_connect', ['tracepoint:sock:inet_sock_set_state']],
    ['kprobe:vfs_*', []],
  ];
  for (const [raw, tps] of cases) {
    assert.throws(() => expand(raw), (e: unknown) => {
      assert.ok(e instanceof ProbeError, raw);
      assert.match(e.message, /^k(ret)?probes are not available on this kernel: it was built without CONFIG_KPROBES \(no kprobe PMU\), and the kernel refuses the fentry\/fexit programs/);
      assert.match(e.hint ?? '', /^HINT: /);
      for (const tp of tps.filter((x) => haveEvents.has(x))) assert.ok(e.hint!.includes(tp), `${raw}: ${e.hint} should name ${tp}`);
      return true;
    });
  }
  assert.throws(() => expand('kprobe:vfs_read+4'), /kprobes are not available/);
});

test('fentry/fexit where the kernel refuses tracing programs: a clear error with a hint', { skip: hasFentry() && 'fentry works on this kernel' }, () => {
  for (const raw of ['fentry:vfs_read', 'kfunc:vmlinux:vfs_read', 'fexit:do_sys_openat2', 'kretfunc:vfs_write']) {
    assert.throws(() => expand(raw), (e: unknown) => {
      assert.ok(e instanceof ProbeError);
      assert.match(e.message, /^fe(ntry|xit) probes are not available on this kernel: it refuses to load BPF tracing programs/);
      assert.match(e.hint ?? '', /tracepoint:syscalls:sys_(enter|exit)_(read|openat|write)/);
      return true;
    });
  }
});

test('a program using kprobe fails to compile with the reason and the HINT line', { skip: noKprobeNoFentry }, () => {
  assert.throws(() => compileProgram('kprobe:vfs_read { @ = count(); }'), (e: unknown) => {
    const msg = (e as Error).message;
    assert.match(msg, /kprobes are not available on this kernel/);
    assert.match(msg, /HINT: .*tracepoint:syscalls:sys_enter_read/);
    return true;
  });
});

test('tracepoint alternatives only name tracepoints this kernel has', () => {
  for (const f of ['vfs_read', 'do_sys_openat2', 'tcp_connect', 'schedule', 'no_such_function_xyz']) {
    for (const tp of tracepointAlternatives(f, false)) assert.ok(haveEvents.has(tp), tp);
  }
  assert.deepEqual(tracepointAlternatives('no_such_function_xyz', false), []);
});

const kprobeSkip = root || (!hasKprobes() && 'kprobes are unavailable here (no kprobe PMU: CONFIG_KPROBES off); this runs on the second kernel');

test('kprobe targets: names, pt_regs arguments, wildcards', { skip: kprobeSkip }, () => {
  const [t] = expand('kprobe:do_sys_openat2');
  assert.equal(t.name, 'kprobe:do_sys_openat2');
  assert.equal(t.progType, ProgType.KPROBE);
  assert.deepEqual(t.argN!(1), { kind: 'ctx', off: 104, size: 8, signed: false });
  const [r] = expand('kretprobe:do_sys_openat2');
  assert.deepEqual(r.retval, { kind: 'ctx', off: 80, size: 8, signed: false });
  const many = expand('kprobe:vfs_rea*').map((x) => x.name);
  assert.ok(many.includes('kprobe:vfs_read'), many.join(' '));
  assert.throws(() => expand('kprobe:no_such_function_xyz'), /not found/);
});

test('bpftrace program: kprobe and kretprobe count exactly the opens of one process', { skip: kprobeSkip }, async () => {
  const N = 25;
  const w = startWorkload(compileC('probe_open'), [String(N)]);
  const maps = await traceMaps(
    'kprobe:do_sys_openat2 /pid == $PID/ { @calls = count(); } kretprobe:do_sys_openat2 /pid == $PID/ { @ok = sum(retval >= 0 ? 1 : 0); }',
    w,
  );
  assert.equal(maps.get('@calls'), BigInt(N));
  assert.equal(maps.get('@ok'), BigInt(N));
});

const fentrySkip = root || (!(hasFentry() && hasFexit()) && 'fentry/fexit are refused on this kernel (EPERM loading tracing programs); this runs on the second kernel');

test('fentry targets: BTF-typed args, fexit retval after the last argument', { skip: fentrySkip }, () => {
  const [t] = expand('fentry:do_sys_openat2');
  assert.equal(t.name, 'fentry:vmlinux:do_sys_openat2');
  assert.equal(t.progType, ProgType.TRACING);
  assert.deepEqual(t.args!.map((a) => a.name), Btf.vmlinux().funcProto('do_sys_openat2')!.params.map((p) => p.name));
  assert.equal(expand('kfunc:do_sys_openat2')[0].name, 'kfunc:vmlinux:do_sys_openat2');
  const [x] = expand('fexit:do_sys_openat2');
  assert.equal((x.retval as { off: number }).off, 8 * t.args!.length);
});

test('bpftrace program: fentry args and fexit retval on the opens of one process', { skip: fentrySkip }, async () => {
  const N = 25;
  const w = startWorkload(compileC('probe_open'), [String(N)]);
  const maps = await traceMaps('fentry:do_sys_openat2 /pid == $PID/ { @dfd[args.dfd] = count(); } fexit:do_sys_openat2 /pid == $PID/ { @ok = sum(retval >= 0 ? 1 : 0); }', w);
  assert.deepEqual((maps.get('@dfd') as { value: unknown }[]).map((e) => e.value), [BigInt(N)]);
  assert.equal(maps.get('@ok'), BigInt(N));
});

// ------------------------------------------------------------ perf events

test('software events: names and aliases, per-CPU or per-process, exact fault counts', { skip: root }, async () => {
  const [t] = expand('software:faults:1');
  assert.equal(t.name, 'software:faults:1');
  assert.equal(t.progType, ProgType.PERF_EVENT);
  assert.deepEqual(expand('s:page-faults')[0].data, { config: 2, period: 100 });
  assert.throws(() => expand('software:nonsense'), /'nonsense' is not a software event/);
  const N = 300;
  const bin = compileC('touch_pages');
  // Every CPU, filtered by pid in the program...
  const all = await traceMaps('software:page-faults:1 /pid == $PID/ { @ = count(); }', startWorkload(bin, [String(N)]));
  assert.ok((all.get('@') as bigint) >= BigInt(N), `${all.get('@')} faults`);
  // ...or the process only, through -p.
  const w = startWorkload(bin, [String(N)]);
  const one = await traceMaps('software:minor-faults:1 { @ = count(); }', w, { pid: w.pid });
  assert.ok((one.get('@') as bigint) >= BigInt(N), `${one.get('@')} faults`);
});

test('hardware events without a hardware PMU: a clear error', { skip: hasHardwarePmu() && 'this machine has a hardware PMU' }, () => {
  assert.throws(() => expand('hardware:cycles:1000000'), (e: unknown) => e instanceof ProbeError && /no hardware PMU/.test(e.message) && /software:cpu-clock/.test(e.hint ?? ''));
  assert.throws(() => expand('hardware:bogus'), /'bogus' is not a hardware event/);
});

test('watchpoint: every write of a watched variable, exactly', { skip: root }, async () => {
  const N = 100;
  const bin = compileC('probe_watch', ['-no-pie'], 'probe_watch');
  const addr = nmAddress(bin, 'watched');
  assert.throws(() => expand(`watchpoint:0x${addr.toString(16)}:8:w`), /need a process/);
  assert.throws(() => expand('watchpoint:0x1000:3:w', 1), /length must be 1, 2, 4 or 8/);
  assert.throws(() => expand('watchpoint:0x1000:8:q', 1), /mode must be/);
  const w = startWorkload(bin, [String(N)]);
  const [t] = expand(`watchpoint:0x${addr.toString(16)}:8:w`, w.pid);
  assert.equal(t.name, `watchpoint:0x${addr.toString(16)}:8:w`);
  const maps = await traceMaps(`watchpoint:0x${addr.toString(16)}:8:w { @ = count(); }`, w, { pid: w.pid });
  assert.equal(maps.get('@'), BigInt(N));
});

// ------------------------------------------------------------ iterators

const iterSkip = root || (!hasIterators() && 'this kernel refuses BPF iterator programs');

/** A task/task_file iterator program counting objects whose task's tgid is slot 0 into slot 1. */
function iterCountProgram(m: SumMap, t: ProbeTarget): Program {
  const btf = Btf.vmlinux();
  const tgidOff = btf.offsetof(btf.findByName('task_struct', 'struct')!, 'tgid');
  const taskOff = (t.args!.find((a) => a.name === 'task')!.read as { off: number }).off;
  const lookup = (slot: number) => [st('w', R10, -4, slot), mov64Reg(R2, R10), alu64Imm('add', R2, -4), ldMapFd(R1, m.map.fd), call('map_lookup_elem'), jmpImm('jeq', R0, 0, 'out')];
  const insns = [
    ldx('dw', R6, R1, taskOff),
    jmpImm('jeq', R6, 0, 'out'),
    ldx('w', R6, R6, tgidOff),
    ...lookup(0),
    ldx('dw', R1, R0, 0),
    jmpReg('jne', R1, R6, 'out'),
    ...lookup(1),
    mov64Imm(R1, 1),
    atomic('dw', 'add', R0, 0, R1),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ];
  return Program.load({ type: t.progType, expectedAttachType: t.expectedAttachType, attachBtfId: t.attachBtfId, name: uniquePrefix('iter'), insns: assemble(insns).bytes });
}

test('iter:task and iter:task_file walk every task and open file once', { skip: iterSkip }, async () => {
  const w = startWorkload(compileC('getppid_loop'), ['1']);
  try {
    await blockedInRead(w.pid);
    for (const [raw, expected] of [['iter:task', readdirSync(`/proc/${w.pid}/task`).length], ['iter:task_file', readdirSync(`/proc/${w.pid}/fd`).length]] as const) {
      const [t] = expand(raw);
      assert.equal(t.name, raw);
      assert.ok(t.args!.some((a) => a.name === 'task'));
      const m = new SumMap(0);
      m.setTgid(w.pid);
      const prog = iterCountProgram(m, t);
      const a = findProvider(PROVIDERS, 'iter')!.attach!(prog.fd, t, { ncpus: onlineCpus().length, onlineCpus: onlineCpus() });
      a.afterBegin!();
      a.close();
      prog.close();
      assert.equal(m.count, expected, raw);
      m.close();
    }
    assert.throws(() => expand('iter:nonsense'), /not a known iterator/);
  } finally {
    w.go();
    await w.done;
  }
});

// ------------------------------------------------------------ listing

function bpftraceList(args: string[]): string | undefined {
  try {
    return execFileSync('bpftrace', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

test('-l and -lv for tracepoints match bpftrace 0.17', (t) => {
  const cases: [string[], string, boolean][] = [
    [['-l', 'tracepoint:syscalls:sys_enter_open*'], 'tracepoint:syscalls:sys_enter_open*', false],
    [['-l', 't:sched:sched_sw*'], 't:sched:sched_sw*', false],
    [['-l', 'tracepoint:*:sys_exit_read*'], 'tracepoint:*:sys_exit_read*', false],
    [['-lv', 'tracepoint:syscalls:sys_enter_openat'], 'tracepoint:syscalls:sys_enter_openat', true],
    [['-lv', 'tracepoint:sched:sched_switch'], 'tracepoint:sched:sched_switch', true],
    [['-lv', 'tracepoint:syscalls:sys_enter_exec*'], 'tracepoint:syscalls:sys_enter_exec*', true],
  ];
  for (const [args, pattern, verbose] of cases) {
    const ref = bpftraceList(args);
    if (ref === undefined) {
      t.skip('bpftrace is not installed to compare with');
      return;
    }
    assert.equal(listProbes(pattern, verbose, PROVIDERS).map((l) => `${l}\n`).join(''), ref, args.join(' '));
  }
});

test('-l software and hardware list every event name and alias (bpftrace 0.19+ output)', () => {
  const sw = listProbes('software:*', false, PROVIDERS);
  assert.ok(sw.includes('software:cpu-clock:') && sw.includes('software:cs:') && sw.includes('software:page-faults:'));
  assert.deepEqual(sw, [...sw].sort());
  assert.deepEqual(listProbes('hardware:cache-*', false, PROVIDERS), ['hardware:cache-misses:', 'hardware:cache-references:']);
  assert.throws(() => listProbes('nosuchprovider:*', false, PROVIDERS), /Invalid provider/);
});

test('-l without a provider walks the kernel providers in name order', () => {
  const lines = listProbes('*sys_enter_openat', false, PROVIDERS);
  assert.ok(lines.includes('tracepoint:syscalls:sys_enter_openat'));
  const kinds = [...new Set(listProbes('', false, PROVIDERS).map((l) => l.slice(0, l.indexOf(':'))))];
  assert.deepEqual(kinds, [...kinds].sort());
  assert.ok(kinds.includes('tracepoint') && kinds.includes('software'));
});
