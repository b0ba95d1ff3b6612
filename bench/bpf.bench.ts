// The kernel object layer's hot paths: how fast a ring buffer drains into
// JavaScript, and what one map operation from TypeScript costs.
import { performance } from 'node:perf_hooks';
import { alu64Imm, assemble, call, exit, ldMapFd, mov64Imm, mov64Reg, st, R0, R1, R2, R3, R4, R10 } from '../src/bpf/asm/index.js';
import { BpfMap, closeAll, MapType, Program, ProgType, RingBufferReader, u32Key, u64Key } from '../src/bpf/index.js';
import { type Row } from './lib/proc.js';

/**
 * Fills a ring with `n` records of `size` bytes from a socket filter run n
 * times by BPF_PROG_TEST_RUN (the one program type whose test run repeats),
 * so the drain is measured alone, without a producer competing for CPU.
 */
function fillRing(ring: BpfMap, n: number, size: number): void {
  const prog = Program.load({
    type: ProgType.SOCKET_FILTER,
    name: 'bench_fill',
    insns: assemble([
      // The record's first word is a marker the reader sums, so the drain does real reads.
      st('dw', R10, -size, 0x1234),
      ...Array.from({ length: size / 8 - 1 }, (_, i) => st('dw', R10, -8 - 8 * i, i)),
      ldMapFd(R1, ring.fd),
      mov64Reg(R2, R10),
      alu64Imm('add', R2, -size),
      mov64Imm(R3, size),
      mov64Imm(R4, 0),
      call('ringbuf_output'),
      mov64Imm(R0, 0),
      exit(),
    ]).bytes,
  });
  // Test runs of socket filters need at least an Ethernet header of data.
  prog.testRun({ data: Buffer.alloc(64), repeat: n });
  prog.close();
}

function drainRate(n: number, size: number): number {
  const ring = BpfMap.ringbuf('bench_ring', 128 << 20);
  fillRing(ring, n, size);
  let sum = 0;
  const reader = new RingBufferReader(ring, (data) => {
    sum += data.readUInt32LE(0);
  });
  const t0 = performance.now();
  const got = reader.drain();
  const dt = (performance.now() - t0) / 1000;
  if (got !== n || sum !== n * 0x1234) throw new Error(`drained ${got} of ${n} records`);
  reader.close();
  ring.close();
  return n / dt;
}

function perCall(iterations: number, op: () => void): number {
  for (let i = 0; i < 10_000; i++) op();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) op();
  return ((performance.now() - t0) * 1e6) / iterations;
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  try {
    rows.push({ name: 'ring buffer drain, 16-byte records', value: drainRate(2_000_000, 16), unit: 'events/s' });
    rows.push({ name: 'ring buffer drain, 64-byte records', value: drainRate(1_000_000, 64), unit: 'events/s' });

    const arr = BpfMap.create({ type: MapType.ARRAY, name: 'bench_arr', keySize: 4, valueSize: 8, maxEntries: 1024 });
    const hash = BpfMap.create({ type: MapType.HASH, name: 'bench_hash', keySize: 8, valueSize: 8, maxEntries: 4096 });
    const pc = BpfMap.create({ type: MapType.PERCPU_ARRAY, name: 'bench_pc', keySize: 4, valueSize: 8, maxEntries: 1 });
    for (let i = 0; i < 1000; i++) hash.update(u64Key(i), u64Key(i));
    const k = u32Key(7);
    const hk = u64Key(500);
    const missing = u64Key(1_000_000);
    const out = Buffer.alloc(8);
    const v = u64Key(42);
    const N = 1_000_000;
    rows.push({ name: 'map lookup, array (u32 -> u64)', value: perCall(N, () => arr.lookup(k, out)), unit: 'ns/call' });
    rows.push({ name: 'map lookup, hash (u64 -> u64)', value: perCall(N, () => hash.lookup(hk, out)), unit: 'ns/call' });
    rows.push({ name: 'map lookup, hash miss (ENOENT)', value: perCall(N, () => hash.lookup(missing)), unit: 'ns/call' });
    rows.push({ name: 'map lookup, hash, fresh copy returned', value: perCall(N, () => hash.lookup(hk)), unit: 'ns/call' });
    rows.push({ name: 'map lookup, per-CPU array', value: perCall(N, () => pc.lookup(u32Key(0))), unit: 'ns/call' });
    rows.push({ name: 'map update, hash', value: perCall(N, () => hash.update(hk, v)), unit: 'ns/call' });
    const t0 = performance.now();
    const entries = hash.dump(4096).length;
    rows.push({ name: `map dump by batch lookup (${entries} entries)`, value: (performance.now() - t0) * 1000, unit: 'us' });
    const t1 = performance.now();
    const iterated = [...hash.entries()].length;
    rows.push({ name: `map dump by iteration (${iterated} entries)`, value: (performance.now() - t1) * 1000, unit: 'us' });
  } finally {
    closeAll();
  }
  return rows;
}
