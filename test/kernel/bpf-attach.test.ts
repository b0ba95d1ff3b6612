// Programs assembled by hand, loaded, attached to real events and checked
// against workloads whose event counts are known exactly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  alu64Imm, assemble, atomic, call, exit, jmpImm, jmpReg, label, ldMapFd, ldx, mov64Imm, mov64Reg, st, stx,
  R0, R1, R2, R6, R10, type Insn,
} from '../../src/bpf/asm/index.js';
import {
  attachKprobeMulti, attachPerfEvent, attachRawTracepoint, attachTracing, AttachType, BpfMap, closeAll, hasFentry,
  hasHardwarePmu, hasKprobeMulti, hasKprobePmu, hasKprobes, MapType, NotSupportedError, openHardware, openKprobe, openSoftware, openTracepoint, openUprobe,
  Program, ProgType, TestRunFlag, u32Key, VerifierError,
} from '../../src/bpf/index.js';
import { Btf } from '../../src/btf/index.js';
import { eventId } from '../../src/probes/tracefs.js';
import { compileC, isRoot } from '../lib/fixtures.js';
import { restoreTracefs, startWorkload, tracefsMountCount, uniquePrefix } from './bpf-helpers.js';

const tracefsBefore = tracefsMountCount();
after(() => {
  closeAll();
  restoreTracefs(tracefsBefore);
});

/**
 * Counts events of the process whose tgid is in cfg[0] into cfg[1]: cfg is an
 * array of two u64. Works for any program type (it never reads ctx).
 */
function countByTgid(cfgFd: number, prelude: Insn[] = []): Insn[] {
  return [
    ...prelude,
    call('get_current_pid_tgid'),
    alu64Imm('rsh', R0, 32),
    mov64Reg(R6, R0),
    st('w', R10, -4, 0),
    mov64Reg(R2, R10),
    alu64Imm('add', R2, -4),
    ldMapFd(R1, cfgFd),
    call('map_lookup_elem'),
    jmpImm('jeq', R0, 0, 'out'),
    ldx('dw', R1, R0, 0),
    jmpReg('jne', R1, R6, 'out'),
    st('w', R10, -4, 1),
    mov64Reg(R2, R10),
    alu64Imm('add', R2, -4),
    ldMapFd(R1, cfgFd),
    call('map_lookup_elem'),
    jmpImm('jeq', R0, 0, 'out'),
    mov64Imm(R1, 1),
    atomic('dw', 'add', R0, 0, R1),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ];
}

function cfgMap(name: string): BpfMap {
  return BpfMap.create({ type: MapType.ARRAY, name, keySize: 4, valueSize: 8, maxEntries: 2 });
}

function setTgid(cfg: BpfMap, pid: number): void {
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(BigInt(pid));
  cfg.update(u32Key(0), v);
}

function count(cfg: BpfMap): number {
  return Number(cfg.lookup(u32Key(1))!.readBigUInt64LE(0));
}

test('tracepoint program counts exactly N getppid calls of one process', { skip: !isRoot() && 'needs root' }, async () => {
  const N = 12345;
  const bin = compileC('getppid_loop');
  const cfg = cfgMap(uniquePrefix('cfg'));
  const prog = Program.load({ type: ProgType.TRACEPOINT, name: uniquePrefix('tpcnt'), insns: assemble(countByTgid(cfg.fd)).bytes });
  const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_getppid'), 'tracepoint:syscalls:sys_enter_getppid'));
  assert.equal(link.kind, 'perf_event');
  assert.ok(link.info()!.id > 0);
  const w = startWorkload(bin, [String(N)]);
  setTgid(cfg, w.pid);
  w.go();
  await w.done;
  assert.equal(count(cfg), N);
  link.close();
  prog.close();
  cfg.close();
});

test('the PERF_EVENT_IOC_SET_BPF fallback attaches too', { skip: !isRoot() && 'needs root' }, async () => {
  const N = 777;
  const bin = compileC('getppid_loop');
  const cfg = cfgMap(uniquePrefix('cfg'));
  const prog = Program.load({ type: ProgType.TRACEPOINT, name: uniquePrefix('tpioc'), insns: assemble(countByTgid(cfg.fd)).bytes });
  const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_getppid')), { forceIoctl: true });
  assert.equal(link.kind, 'perf_ioctl');
  const w = startWorkload(bin, [String(N)]);
  setTgid(cfg, w.pid);
  w.go();
  await w.done;
  assert.equal(count(cfg), N);
  link.close();
  // Detached: more calls are not counted.
  const w2 = startWorkload(bin, ['5']);
  setTgid(cfg, w2.pid);
  w2.go();
  await w2.done;
  assert.equal(count(cfg), N);
  prog.close();
  cfg.close();
});

test('raw tracepoint program on sys_enter counts exactly N getppid calls', { skip: !isRoot() && 'needs root' }, async () => {
  const N = 500;
  const NR_getppid = 110;
  const bin = compileC('getppid_loop');
  const cfg = cfgMap(uniquePrefix('cfg'));
  // sys_enter's raw arguments are (struct pt_regs *regs, long id): ctx[1] is the syscall number.
  const onlyGetppid = [ldx('dw', R2, R1, 8), jmpImm('jne', R2, NR_getppid, 'out')];
  const prog = Program.load({ type: ProgType.RAW_TRACEPOINT, name: uniquePrefix('rawtp'), insns: assemble(countByTgid(cfg.fd, onlyGetppid)).bytes });
  const w = startWorkload(bin, [String(N)]);
  setTgid(cfg, w.pid);
  const link = attachRawTracepoint(prog, 'sys_enter');
  assert.equal(link.kind, 'raw_tracepoint');
  w.go();
  await w.done;
  link.close();
  assert.equal(count(cfg), N);
  prog.close();
  cfg.close();
});

test('BEGIN-style programs run through BPF_PROG_TEST_RUN with a ctx', { skip: !isRoot() && 'needs root' }, () => {
  // Returns ctx[1] + 1, and stores ctx[0] into an array so the side effect is visible.
  const out = BpfMap.create({ type: MapType.ARRAY, name: uniquePrefix('out'), keySize: 4, valueSize: 8, maxEntries: 1 });
  const prog = Program.load({
    type: ProgType.RAW_TRACEPOINT,
    name: uniquePrefix('begin'),
    insns: assemble([
      mov64Reg(R6, R1),
      st('w', R10, -4, 0),
      mov64Reg(R2, R10),
      alu64Imm('add', R2, -4),
      ldMapFd(R1, out.fd),
      call('map_lookup_elem'),
      jmpImm('jeq', R0, 0, 'skip'),
      ldx('dw', R1, R6, 0),
      stx('dw', R0, 0, R1),
      label('skip'),
      ldx('dw', R0, R6, 8),
      alu64Imm('add', R0, 1),
      exit(),
    ]).bytes,
  });
  const ctx = Buffer.alloc(16);
  ctx.writeBigUInt64LE(0x1234567890n, 0);
  ctx.writeBigUInt64LE(41n, 8);
  const r = prog.testRun({ ctx });
  assert.equal(r.retval, 42);
  assert.equal(out.lookup(u32Key(0))!.readBigUInt64LE(0), 0x1234567890n);
  // Pinned to a CPU, as END runs after the maps are final.
  assert.equal(prog.testRun({ ctx, flags: TestRunFlag.RUN_ON_CPU, cpu: 0 }).retval, 42);
  prog.close();
  out.close();
});

test('a rejected program throws VerifierError with the log and the failing instruction', { skip: !isRoot() && 'needs root' }, () => {
  // Instruction 3 reads r3, which was never written.
  const insns = assemble([mov64Imm(R0, 0), mov64Imm(R1, 1), alu64Imm('add', R0, 0), mov64Reg(R0, 3), exit()]).bytes;
  assert.throws(() => Program.load({ type: ProgType.TRACEPOINT, name: 'bad', insns }), (e: unknown) => {
    assert.ok(e instanceof VerifierError);
    assert.equal(e.code, 'EACCES');
    assert.match(e.log, /R3 !read_ok/);
    assert.equal(e.insnIndex, 3);
    assert.match(e.message, /R3 !read_ok at instruction 3/);
    return true;
  });
  // A huge straight-line program overflows the first 64 KiB log: the buffer grows and the reason survives.
  const many: Insn[] = [];
  for (let i = 0; i < 8000; i++) many.push(mov64Imm(R0, i));
  many.push(mov64Reg(R0, 3), exit());
  assert.throws(() => Program.load({ type: ProgType.TRACEPOINT, name: 'bad_big', insns: assemble(many).bytes }), (e: unknown) => {
    assert.ok(e instanceof VerifierError);
    assert.match(e.reason, /R3 !read_ok/);
    assert.equal(e.insnIndex, 8000);
    assert.ok(e.log.length > 64 * 1024, `log of ${e.log.length} bytes`);
    return true;
  });
});

/** The kernel function behind getppid(2): kprobes need it in kallsyms, fentry in BTF. */
function getppidFunc(inBtf: boolean): string | undefined {
  const names = ['__x64_sys_getppid', '__do_sys_getppid', '__se_sys_getppid', '__arm64_sys_getppid'];
  if (inBtf) return names.find((n) => Btf.vmlinux().findByName(n, 'func') !== undefined);
  const syms = new Set(readFileSync('/proc/kallsyms', 'utf8').split('\n').map((l) => l.split(' ')[2]));
  return names.find((n) => syms.has(n));
}

async function countGetppid(N: number, load: (cfg: BpfMap) => Program, attach: (prog: Program, pid: number) => { close(): void }): Promise<number> {
  const bin = compileC('getppid_loop');
  const cfg = cfgMap(uniquePrefix('cfg'));
  const prog = load(cfg);
  const w = startWorkload(bin, [String(N)]);
  setTgid(cfg, w.pid);
  const link = attach(prog, w.pid);
  w.go();
  await w.done;
  const n = count(cfg);
  link.close();
  prog.close();
  cfg.close();
  return n;
}

test('fentry and fexit count exactly N getppid calls', { skip: !isRoot() && 'needs root' }, async (t) => {
  if (!hasFentry()) {
    t.skip('this kernel refuses BPF tracing programs (fentry/fexit); the 6.1 guest runs this test');
    return;
  }
  const fn = getppidFunc(true);
  assert.ok(fn, 'no getppid function in the kernel BTF');
  const id = Btf.vmlinux().findByName(fn, 'func')!;
  for (const attachType of [AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT]) {
    const n = await countGetppid(321, (cfg) => Program.load({
      type: ProgType.TRACING, expectedAttachType: attachType, attachBtfId: id, name: uniquePrefix('fentry'),
      insns: assemble(countByTgid(cfg.fd)).bytes,
    }), (prog) => {
      const link = attachTracing(prog);
      assert.equal(link.kind, 'tracing');
      return link;
    });
    assert.equal(n, 321);
  }
});

test('fentry programs the kernel refuses fail with a VerifierError carrying EPERM', { skip: !isRoot() && 'needs root' }, (t) => {
  if (hasFentry()) {
    t.skip('this kernel accepts fentry programs');
    return;
  }
  const id = Btf.vmlinux().findByName('vfs_read', 'func');
  assert.ok(id !== undefined);
  assert.throws(() => Program.load({
    type: ProgType.TRACING, expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: id, name: 'fentry_refused',
    insns: assemble([mov64Imm(R0, 0), exit()]).bytes,
  }), (e: unknown) => e instanceof VerifierError && e.code === 'EPERM');
});

test('kprobe, kretprobe and kprobe_multi count exactly N getppid calls', { skip: !isRoot() && 'needs root' }, async (t) => {
  if (!hasKprobes()) {
    t.skip('this kernel has no kprobes (no kprobe PMU); the 6.1 guest runs this test');
    return;
  }
  const fn = getppidFunc(false);
  assert.ok(fn, 'no getppid function in /proc/kallsyms');
  for (const retprobe of [false, true]) {
    const n = await countGetppid(432, (cfg) => Program.load({ type: ProgType.KPROBE, name: uniquePrefix('kprobe'), insns: assemble(countByTgid(cfg.fd)).bytes }),
      (prog) => attachPerfEvent(prog, openKprobe(fn, { retprobe })));
    assert.equal(n, 432, retprobe ? 'kretprobe' : 'kprobe');
  }
  if (!hasKprobeMulti()) {
    t.diagnostic('kprobe_multi links are not available here');
    return;
  }
  for (const retprobe of [false, true]) {
    const n = await countGetppid(543, (cfg) => Program.load({
      type: ProgType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI, name: uniquePrefix('kmulti'),
      insns: assemble(countByTgid(cfg.fd)).bytes,
    }), (prog) => attachKprobeMulti(prog, { symbols: [fn], retprobe }));
    assert.equal(n, 543, retprobe ? 'kprobe_multi return' : 'kprobe_multi');
  }
});

/** File offset of `sym` in a non-PIE ELF binary: its address minus its LOAD segment's vaddr, plus the segment's offset. */
function symbolFileOffset(bin: string, sym: string): number {
  const nm = execFileSync('nm', [bin], { encoding: 'utf8' });
  const m = new RegExp(`^([0-9a-f]+) T ${sym}$`, 'm').exec(nm);
  assert.ok(m, `${sym} not in ${bin}`);
  const addr = parseInt(m[1]!, 16);
  const ph = execFileSync('readelf', ['-lW', bin], { encoding: 'utf8' });
  for (const line of ph.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'LOAD') continue;
    const off = parseInt(f[1]!, 16);
    const vaddr = parseInt(f[2]!, 16);
    const memsz = parseInt(f[5]!, 16);
    if (addr >= vaddr && addr < vaddr + memsz) return addr - vaddr + off;
  }
  throw new Error(`no LOAD segment holds ${sym}`);
}

test('uprobe and uretprobe through the uprobe PMU count every call', { skip: !isRoot() && 'needs root' }, async () => {
  const N = 1000;
  const bin = compileC('uprobe_target', ['-no-pie']);
  const off = symbolFileOffset(bin, 'bpfkit_target');
  for (const retprobe of [false, true]) {
    const cfg = cfgMap(uniquePrefix('cfg'));
    const prog = Program.load({ type: ProgType.KPROBE, name: uniquePrefix('uprobe'), insns: assemble(countByTgid(cfg.fd)).bytes });
    const w = startWorkload(bin, [String(N)]);
    setTgid(cfg, w.pid);
    const link = attachPerfEvent(prog, openUprobe(bin, off, { retprobe, pid: w.pid }));
    w.go();
    await w.done;
    assert.equal(count(cfg), N, retprobe ? 'uretprobe' : 'uprobe');
    link.close();
    prog.close();
    cfg.close();
  }
});

test('software page-fault events sample a workload touching N pages', { skip: !isRoot() && 'needs root' }, async () => {
  const N = 300;
  const bin = compileC('touch_pages');
  const cfg = cfgMap(uniquePrefix('cfg'));
  const prog = Program.load({ type: ProgType.PERF_EVENT, name: uniquePrefix('swpf'), insns: assemble(countByTgid(cfg.fd)).bytes });
  const w = startWorkload(bin, [String(N)]);
  setTgid(cfg, w.pid);
  // Following the process (pid, any CPU) with a period of 1: every fault is a sample.
  const link = attachPerfEvent(prog, openSoftware('page-faults', { pid: w.pid, cpu: -1, period: 1 }));
  w.go();
  await w.done;
  assert.ok(count(cfg) >= N, `counted ${count(cfg)} faults`);
  link.close();
  prog.close();
  cfg.close();
});

test('kprobes and hardware events fail with NotSupportedError where the machine lacks them', { skip: !isRoot() && 'needs root' }, (t) => {
  if (hasKprobePmu() && hasHardwarePmu()) {
    t.skip('this machine has both a kprobe PMU and a hardware PMU');
    return;
  }
  if (!hasKprobePmu()) {
    assert.throws(() => openKprobe('vfs_read'), (e: unknown) => e instanceof NotSupportedError && e.feature === 'kprobe' && /no kprobe PMU/.test(e.message));
  }
  if (!hasHardwarePmu()) {
    assert.throws(() => openHardware('cycles', { cpu: 0 }), (e: unknown) => e instanceof NotSupportedError && /no hardware PMU/.test(e.message));
  }
});
