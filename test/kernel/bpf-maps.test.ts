// Map operations against the kernel: element ops and their flags, iteration,
// per-CPU layouts (checked against values a program wrote on each CPU), LRU
// eviction, arrays, batch lookups and the iteration fallback.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alu64Imm, assemble, atomic, call, exit, jmpImm, label, ldMapFd, mov64Imm, mov64Reg, st, R0, R1, R2, R3, R10,
} from '../../src/bpf/asm/index.js';
import {
  BpfMap, closeAll, MapType, numPossibleCpus, onlineCpus, Program, ProgType, SysError, TestRunFlag,
  u32Key, u64Key, UpdateFlag,
} from '../../src/bpf/index.js';
import { isRoot } from '../lib/fixtures.js';
import { uniquePrefix } from './bpf-helpers.js';

after(() => closeAll());
const skip = !isRoot() && 'needs root';

const keyNum = (k: Buffer): number => k.readUInt32LE(0);

test('hash: update, lookup, delete, flags, iteration', { skip }, () => {
  const m = BpfMap.create({ type: MapType.HASH, name: uniquePrefix('h'), keySize: 4, valueSize: 8, maxEntries: 64 });
  assert.equal(m.lookup(u32Key(1)), undefined);
  for (let i = 0; i < 50; i++) m.update(u32Key(i), u64Key(i * 3));
  assert.equal(m.lookup(u32Key(7))!.readBigUInt64LE(0), 21n);
  // The returned value is a copy: later lookups do not change it.
  const v = m.lookup(u32Key(8))!;
  m.lookup(u32Key(9));
  assert.equal(v.readBigUInt64LE(0), 24n);
  const out = Buffer.alloc(8);
  assert.equal(m.lookup(u32Key(10), out), out);
  assert.equal(out.readBigUInt64LE(0), 30n);

  assert.throws(() => m.update(u32Key(7), u64Key(0), UpdateFlag.NOEXIST), (e: unknown) => e instanceof SysError && e.code === 'EEXIST');
  assert.throws(() => m.update(u32Key(99), u64Key(0), UpdateFlag.EXIST), (e: unknown) => e instanceof SysError && e.code === 'ENOENT');
  m.update(u32Key(7), u64Key(70), UpdateFlag.EXIST);
  assert.equal(m.lookup(u32Key(7))!.readBigUInt64LE(0), 70n);

  assert.equal(m.delete(u32Key(7)), true);
  assert.equal(m.delete(u32Key(7)), false);
  assert.equal(m.lookup(u32Key(7)), undefined);

  const keys = [...m.keys()].map(keyNum).sort((a, b) => a - b);
  assert.deepEqual(keys, [...Array(50).keys()].filter((i) => i !== 7));
  const entries = new Map([...m.entries()].map(([k, val]) => [keyNum(k), val.readBigUInt64LE(0)]));
  assert.equal(entries.size, 49);
  assert.equal(entries.get(49), 147n);

  for (let i = 50; i < 64; i++) m.update(u32Key(i), u64Key(i));
  m.update(u32Key(7), u64Key(7));
  assert.throws(() => m.update(u32Key(1000), u64Key(0)), (e: unknown) => e instanceof SysError && e.code === 'E2BIG');
  assert.throws(() => m.lookup(Buffer.alloc(8)), RangeError);
  assert.throws(() => m.update(u32Key(1), Buffer.alloc(4)), RangeError);

  m.clear();
  assert.equal([...m.keys()].length, 0);
  m.close();
  m.close();
});

/** Adds 1 to a per-CPU array's slot 0 on whichever CPU it runs on. */
function perCpuIncrement(mapFd: number): Buffer {
  return assemble([
    st('w', R10, -4, 0),
    mov64Reg(R2, R10),
    alu64Imm('add', R2, -4),
    ldMapFd(R1, mapFd),
    call('map_lookup_elem'),
    jmpImm('jeq', R0, 0, 'out'),
    mov64Imm(R1, 1),
    atomic('w', 'add', R0, 0, R1),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ]).bytes;
}

test('per-CPU array: one slot per possible CPU, each what a program wrote on that CPU', { skip }, () => {
  // A 4-byte value: the kernel's per-CPU layout rounds every slot up to 8 bytes.
  const m = BpfMap.create({ type: MapType.PERCPU_ARRAY, name: uniquePrefix('pca'), keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.equal(m.ncpus, numPossibleCpus());
  assert.equal(m.valueStride, 8);
  assert.equal(m.fullValueSize, 8 * numPossibleCpus());
  const prog = Program.load({ type: ProgType.RAW_TRACEPOINT, name: uniquePrefix('pcinc'), insns: perCpuIncrement(m.fd) });
  const cpus = onlineCpus();
  cpus.forEach((cpu, i) => {
    for (let n = 0; n <= i; n++) prog.testRun({ ctx: Buffer.alloc(8), flags: TestRunFlag.RUN_ON_CPU, cpu });
  });
  const slots = m.lookupPerCpu(u32Key(0))!;
  assert.equal(slots.length, numPossibleCpus());
  cpus.forEach((cpu, i) => assert.equal(slots[cpu]!.readUInt32LE(0), i + 1, `cpu ${cpu}`));
  // Writing one value sets every CPU's slot.
  m.update(u32Key(0), Buffer.from([5, 0, 0, 0]));
  assert.deepEqual(m.lookupPerCpu(u32Key(0))!.map((b) => b.readUInt32LE(0)), Array(numPossibleCpus()).fill(5));
  prog.close();
  m.close();
});

test('per-CPU hash: per-CPU values written, read, iterated and batched', { skip }, () => {
  const n = numPossibleCpus();
  const m = BpfMap.create({ type: MapType.PERCPU_HASH, name: uniquePrefix('pch'), keySize: 8, valueSize: 8, maxEntries: 128 });
  for (let k = 0; k < 100; k++) {
    const full = Buffer.alloc(m.fullValueSize);
    for (let c = 0; c < n; c++) full.writeBigUInt64LE(BigInt(k * 100 + c), c * 8);
    m.update(u64Key(k), full);
  }
  assert.deepEqual(m.lookupPerCpu(u64Key(42))!.map((b) => b.readBigUInt64LE(0)), [...Array(n).keys()].map((c) => BigInt(4200 + c)));
  const dumped = m.lookupBatch(16)!;
  assert.ok(dumped, 'batch lookup is supported on this kernel');
  assert.equal(dumped.length, 100);
  for (const [k, v] of dumped) {
    const key = Number(k.readBigUInt64LE(0));
    assert.deepEqual(m.splitPerCpu(v).map((b) => b.readBigUInt64LE(0)), [...Array(n).keys()].map((c) => BigInt(key * 100 + c)));
  }
  m.close();
});

test('LRU hashes evict instead of failing when full', { skip }, () => {
  for (const type of [MapType.LRU_HASH, MapType.LRU_PERCPU_HASH]) {
    const m = BpfMap.create({ type, name: uniquePrefix('lru'), keySize: 4, valueSize: 8, maxEntries: 128 });
    for (let i = 0; i < 1000; i++) m.update(u32Key(i), u64Key(i));
    const keys = [...m.keys()].map(keyNum);
    assert.ok(keys.length > 0 && keys.length <= 128, `${keys.length} keys`);
    assert.ok(keys.includes(999), 'the newest key survives');
    assert.equal(m.lookup(u32Key(999))!.readBigUInt64LE(0), 999n);
    m.close();
  }
});

test('array: preallocated zeroed slots, no delete, clear zeroes', { skip }, () => {
  const m = BpfMap.create({ type: MapType.ARRAY, name: uniquePrefix('arr'), keySize: 4, valueSize: 16, maxEntries: 10 });
  assert.deepEqual(m.lookup(u32Key(3)), Buffer.alloc(16));
  assert.equal(m.lookup(u32Key(10)), undefined);
  m.update(u32Key(3), Buffer.alloc(16, 7));
  assert.deepEqual(m.lookup(u32Key(3)), Buffer.alloc(16, 7));
  assert.throws(() => m.delete(u32Key(3)), (e: unknown) => e instanceof SysError && e.code === 'EINVAL');
  assert.deepEqual([...m.keys()].map(keyNum), [...Array(10).keys()]);
  const dumped = m.dump(3);
  assert.equal(dumped.length, 10);
  assert.deepEqual(dumped[3]![1], Buffer.alloc(16, 7));
  m.clear();
  assert.deepEqual(m.lookup(u32Key(3)), Buffer.alloc(16));
  m.close();
});

test('batch lookup crosses many batches and matches iteration; map types without it fall back to iteration', { skip }, () => {
  const m = BpfMap.create({ type: MapType.HASH, name: uniquePrefix('bh'), keySize: 4, valueSize: 4, maxEntries: 5000 });
  for (let i = 0; i < 3000; i++) {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(i ^ 0xabcdef);
    m.update(u32Key(i), v);
  }
  const batched = m.lookupBatch(7)!;
  assert.ok(batched);
  const fromBatch = new Map(batched.map(([k, v]) => [keyNum(k), v.readUInt32LE(0)]));
  const fromIter = new Map([...m.entries()].map(([k, v]) => [keyNum(k), v.readUInt32LE(0)]));
  assert.equal(fromBatch.size, 3000);
  assert.deepEqual(fromBatch, fromIter);
  assert.equal(m.dump().length, 3000);
  // One entry per call: buckets holding two entries answer ENOSPC and the batch grows.
  assert.deepEqual(new Map(m.lookupBatch(1)!.map(([k, v]) => [keyNum(k), v.readUInt32LE(0)])), fromIter);
  m.close();

  // Stack trace maps have no batch operations: lookupBatch says so and
  // dump() iterates. A program fills one with its own kernel stack.
  const stacks = BpfMap.create({ type: MapType.STACK_TRACE, name: uniquePrefix('stk'), keySize: 4, valueSize: 8 * 127, maxEntries: 64 });
  const prog = Program.load({
    type: ProgType.RAW_TRACEPOINT,
    name: uniquePrefix('stkid'),
    insns: assemble([ldMapFd(R2, stacks.fd), mov64Imm(R3, 0), call('get_stackid'), exit()]).bytes,
  });
  const id = prog.testRun({ ctx: Buffer.alloc(8) }).retval;
  assert.ok(id < 64, `get_stackid returned ${id}`);
  assert.equal(stacks.lookupBatch(), undefined);
  const d = stacks.dump();
  assert.deepEqual(d.map(([k]) => keyNum(k)), [id]);
  // A kernel stack: the first frame is a kernel address.
  assert.ok(d[0]![1].readBigUInt64LE(0) >= 0xffff800000000000n);
  prog.close();
  stacks.close();
});

test('creation errors name the map', { skip }, () => {
  assert.throws(
    () => BpfMap.create({ type: MapType.HASH, name: 'bad sizes', keySize: 0, valueSize: 8, maxEntries: 1 }),
    (e: unknown) => e instanceof SysError && e.code === 'EINVAL' && /hash map 'bad_sizes'/.test(e.message),
  );
  assert.throws(() => BpfMap.ringbuf('odd', 5000), RangeError);
});
