// A million events from a C load generator through the BPF ring buffer and
// through per-CPU perf buffers, each payload checked: every sequence number
// exactly once, in order, and nothing lost (or, for perf buffers, every loss
// accounted for by PERF_RECORD_LOST).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  alu64Imm, assemble, atomic, call, exit, jmp32Imm, jmpImm, label, ldMapFd, ldx, mov32Imm, mov64Imm, mov64Reg, st, stx,
  R0, R1, R2, R3, R4, R5, R6, R7, R10, type Insn,
} from '../../src/bpf/asm/index.js';
import {
  attachPerfEvent, BpfMap, closeAll, MapType, openTracepoint, PerfBufferReader, Poller, Program, ProgType,
  RingBufferReader, u32Key,
} from '../../src/bpf/index.js';
import { eventId } from '../../src/probes/tracefs.js';
import { compileC, isRoot } from '../lib/fixtures.js';
import { restoreTracefs, startWorkload, tracefsMountCount, uniquePrefix } from './bpf-helpers.js';

const N = 1_000_000;
const tracefsBefore = tracefsMountCount();
after(() => {
  closeAll();
  restoreTracefs(tracefsBefore);
});

/**
 * On sys_enter_write of process `tgid` with fd -1, emits {u64 seq (the
 * `count` argument), u32 pid, u32 0}; a failed output increments drops[0].
 * sys_enter_write's record: fd at 16, buf at 24, count at 32.
 */
function seqProgram(tgid: number, kind: 'ringbuf' | 'perf', outFd: number, dropsFd: number): Insn[] {
  const emit = kind === 'ringbuf'
    ? [ldMapFd(R1, outFd), mov64Reg(R2, R10), alu64Imm('add', R2, -16), mov64Imm(R3, 16), mov64Imm(R4, 0), call('ringbuf_output')]
    // BPF_F_CURRENT_CPU is 0xffffffff in the low word only: a 32-bit move keeps the high word clear.
    : [mov64Reg(R1, R6), ldMapFd(R2, outFd), mov32Imm(R3, -1), mov64Reg(R4, R10), alu64Imm('add', R4, -16), mov64Imm(R5, 16), call('perf_event_output')];
  return [
    mov64Reg(R6, R1),
    call('get_current_pid_tgid'),
    alu64Imm('rsh', R0, 32),
    jmpImm('jne', R0, tgid, 'out'),
    mov64Reg(R7, R0),
    ldx('w', R1, R6, 16),
    jmp32Imm('jne', R1, -1, 'out'),
    ldx('dw', R1, R6, 32),
    stx('dw', R10, -16, R1),
    stx('w', R10, -8, R7),
    st('w', R10, -4, 0),
    ...emit,
    jmpImm('jeq', R0, 0, 'out'),
    st('w', R10, -20, 0),
    mov64Reg(R2, R10),
    alu64Imm('add', R2, -20),
    ldMapFd(R1, dropsFd),
    call('map_lookup_elem'),
    jmpImm('jeq', R0, 0, 'out'),
    mov64Imm(R1, 1),
    atomic('dw', 'add', R0, 0, R1),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ];
}

function dropsMap(): BpfMap {
  return BpfMap.create({ type: MapType.ARRAY, name: uniquePrefix('drops'), keySize: 4, valueSize: 8, maxEntries: 1 });
}

test('ring buffer: 1,000,000 events, every payload once and in order, none lost', { skip: !isRoot() && 'needs root', timeout: 120_000 }, async (t) => {
  const bin = compileC('write_seq');
  const ring = BpfMap.ringbuf(uniquePrefix('ring'), 64 << 20);
  const drops = dropsMap();
  const w = startWorkload(bin, [String(N)]);
  const prog = Program.load({ type: ProgType.TRACEPOINT, name: uniquePrefix('rbseq'), insns: assemble(seqProgram(w.pid, 'ringbuf', ring.fd, drops.fd)).bytes });
  const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_write')));

  let next = 1;
  let errors = 0;
  let firstError = '';
  const reader = new RingBufferReader(ring, (data) => {
    const seq = data.readUInt32LE(0);
    if (data.length !== 16 || data.readUInt32LE(4) !== 0 || seq !== next || data.readUInt32LE(8) !== w.pid || data.readUInt32LE(12) !== 0) {
      if (errors++ === 0) firstError = `record #${next}: ${data.toString('hex')}`;
    }
    next++;
  });
  let wakeups = 0;
  const poller = new Poller([reader], { timeoutMs: 50, onDrained: () => wakeups++ });
  poller.start();
  w.go();
  await w.done;
  // Every output happened inside the generator's syscalls, so all of it is in the ring now.
  reader.drain();
  poller.close();
  link.close();
  t.diagnostic(`ring buffer: ${next - 1} records in ${wakeups} wake-ups`);
  assert.equal(errors, 0, firstError);
  assert.equal(drops.lookup(u32Key(0))!.readBigUInt64LE(0), 0n, 'the program saw ringbuf_output fail');
  assert.equal(next - 1, N);
  assert.equal(reader.pending(), 0);
  reader.close();
  prog.close();
  ring.close();
  drops.close();
});

test('perf buffer: 1,000,000 events, every payload once and in order; losses counted exactly', { skip: !isRoot() && 'needs root', timeout: 120_000 }, async (t) => {
  const bin = compileC('write_seq');
  const perfMap = BpfMap.perfEventArray(uniquePrefix('perf'));
  const drops = dropsMap();
  // Pinned to one CPU, every event lands in one per-CPU ring, in order.
  const w = startWorkload(bin, [String(N), '0']);
  const prog = Program.load({ type: ProgType.TRACEPOINT, name: uniquePrefix('pbseq'), insns: assemble(seqProgram(w.pid, 'perf', perfMap.fd, drops.fd)).bytes });
  const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_write')));

  let received = 0;
  let last = 0;
  let errors = 0;
  let firstError = '';
  const cpus = new Set<number>();
  const reader = new PerfBufferReader(perfMap, (data, cpu) => {
    const seq = data.readUInt32LE(0);
    // 16 bytes of payload, padded by the kernel to keep records 8-byte aligned.
    if (data.length < 16 || data.readUInt32LE(4) !== 0 || seq <= last || data.readUInt32LE(8) !== w.pid) {
      if (errors++ === 0) firstError = `record after seq ${last}: ${data.toString('hex')}`;
    }
    last = seq;
    received++;
    cpus.add(cpu);
  }, { pagesPerCpu: 4096 });
  const poller = new Poller([reader], { timeoutMs: 50 });
  poller.start();
  w.go();
  await w.done;
  reader.drain();
  poller.close();
  link.close();
  const dropped = Number(drops.lookup(u32Key(0))!.readBigUInt64LE(0));
  t.diagnostic(`perf buffer: received ${received}, PERF_RECORD_LOST total ${reader.lost}, failed outputs seen by the program ${dropped}, cpus ${[...cpus].join(',')}`);
  assert.equal(errors, 0, firstError);
  assert.equal(received + reader.lost, N);
  assert.equal(reader.lost, dropped);
  if (reader.lost === 0) assert.equal(last, N);
  reader.close();
  prog.close();
  perfMap.close();
  drops.close();
});

test('perf buffer overload: every dropped sample is reported by PERF_RECORD_LOST', { skip: !isRoot() && 'needs root', timeout: 120_000 }, async (t) => {
  const M = 200_000;
  const bin = compileC('write_seq');
  const perfMap = BpfMap.perfEventArray(uniquePrefix('perf'));
  const drops = dropsMap();
  const child = spawn(bin, [String(M), '0', 'pause'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const prog = Program.load({ type: ProgType.TRACEPOINT, name: uniquePrefix('pblost'), insns: assemble(seqProgram(child.pid!, 'perf', perfMap.fd, drops.fd)).bytes });
  const link = attachPerfEvent(prog, openTracepoint(eventId('syscalls', 'sys_enter_write')));
  let received = 0;
  let last = 0;
  let errors = 0;
  // Two pages per CPU and nobody reading while the generator runs: the ring fills almost at once.
  const reader = new PerfBufferReader(perfMap, (data) => {
    const seq = data.readUInt32LE(0);
    if (seq <= last) errors++;
    last = seq;
    received++;
  }, { pagesPerCpu: 2 });
  const paused = once(child.stdout!, 'data');
  child.stdin!.write('g');
  await paused;
  reader.drain();
  // The kernel writes the LOST record in front of the next sample that fits: make one.
  child.stdin!.end('g');
  assert.equal(await exited, 0);
  reader.drain();
  link.close();
  const dropped = Number(drops.lookup(u32Key(0))!.readBigUInt64LE(0));
  t.diagnostic(`perf buffer overload: received ${received}, PERF_RECORD_LOST total ${reader.lost}, failed outputs ${dropped}`);
  assert.equal(errors, 0);
  assert.ok(reader.lost > 0);
  assert.equal(reader.lost, dropped);
  assert.equal(received + reader.lost, M + 1);
  assert.equal(last, M + 1);
  reader.close();
  prog.close();
  perfMap.close();
  drops.close();
});
