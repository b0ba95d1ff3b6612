// The pure parts of the kernel object layer, which need no privileges: attr
// encoding, name sanitizing, cpu lists, verifier log parsing, event names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import {
  Attr, failingInsn, findHardwareEvent, findSoftwareEvent, kernelVersionCode, logReason, objName, parseCpuList,
  VerifierError,
} from '../../src/bpf/index.js';
import { addressOf } from '../../src/bpf/sys.js';

test('Attr writes little-endian fields at fixed offsets and keeps pointed-to memory', () => {
  const target = Buffer.from('hello\0');
  const a = new Attr(32).u32(0, 0xdeadbeef).u32(4, -1).u64(8, 0x0102030405060708n).ptr(16, target).chars(24, 8, 'abcdefghij');
  assert.equal(a.buf.readUInt32LE(0), 0xdeadbeef);
  assert.equal(a.buf.readUInt32LE(4), 0xffffffff);
  assert.deepEqual([...a.buf.subarray(8, 16)], [8, 7, 6, 5, 4, 3, 2, 1]);
  assert.equal(a.getU64(16), addressOf(target));
  // Seven characters and the NUL: names are cut, never unterminated.
  assert.equal(a.buf.toString('latin1', 24, 32), 'abcdefg\0');
  a.reset();
  assert.deepEqual(a.buf, Buffer.alloc(32));
});

test('object names become what the kernel accepts', () => {
  assert.equal(objName('tracepoint:syscalls:sys_enter_read'), 'tracepoint_sysc');
  assert.equal(objName('@counts[1]'), '_counts_1_');
  assert.equal(objName('ok.name_1'), 'ok.name_1');
  assert.equal(objName(''), '');
});

test('cpu lists', () => {
  assert.deepEqual(parseCpuList('0-1\n'), [0, 1]);
  assert.deepEqual(parseCpuList('0,2-4,7'), [0, 2, 3, 4, 7]);
  assert.deepEqual(parseCpuList('5'), [5]);
  assert.throws(() => parseCpuList('0-a'));
});

const LOG = `func#0 @0
0: R1=ctx() R10=fp0
0: (b7) r0 = 0                        ; R0_w=0
1: (b7) r1 = 1                        ; R1_w=1
2: (07) r0 += 0                       ; R0_w=0
3: (bf) r0 = r3
R3 !read_ok
processed 4 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;

test('verifier logs: the failing instruction and the reason', () => {
  assert.equal(failingInsn(LOG), 3);
  assert.equal(logReason(LOG), 'R3 !read_ok');
  assert.equal(failingInsn(''), null);
  const e = new VerifierError('count', 13, LOG);
  assert.equal(e.code, 'EACCES');
  assert.equal(e.insnIndex, 3);
  assert.equal(e.message, 'loading program count: EACCES: R3 !read_ok at instruction 3');
  assert.equal(new VerifierError('x', 1, '').message, 'loading program x: EPERM');
});

test('LINUX_VERSION_CODE from the release string', () => {
  const [maj, min, patch] = release().split(/[.-]/).map(Number) as [number, number, number];
  assert.equal(kernelVersionCode(), (maj << 16) + (min << 8) + Math.min(patch, 255));
});

test('bpftrace software and hardware event names and aliases', () => {
  assert.equal(findSoftwareEvent('cpu')?.names[0], 'cpu-clock');
  assert.equal(findSoftwareEvent('cs')?.config, 3);
  assert.equal(findSoftwareEvent('faults')?.names[0], 'page-faults');
  assert.equal(findSoftwareEvent('bpf-output')?.config, 10);
  assert.equal(findHardwareEvent('cycles')?.names[0], 'cpu-cycles');
  assert.equal(findHardwareEvent('branches')?.config, 4);
  assert.equal(findSoftwareEvent('nope'), undefined);
});
