// The BTF that describes a program's functions for func_info (src/bpf/btfgen.ts),
// read back with bpfkit's own BTF reader: the blob must be well-formed BTF
// whatever the kernel later says about it (test/kernel/formap.test.ts loads it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { btfIdent, buildFuncBtf, MAP_ELEM_CALLBACK_PARAMS } from '../../src/bpf/btfgen.js';
import { Btf } from '../../src/btf/index.js';

test('func BTF: a long, then a prototype and a static FUNC per function', () => {
  const { blob, typeIds } = buildFuncBtf([
    { name: 'tracepoint_syscalls_sys_enter_getppid', params: [] },
    { name: 'cb0', params: MAP_ELEM_CALLBACK_PARAMS },
    { name: 'cb1', params: MAP_ELEM_CALLBACK_PARAMS },
  ]);
  // Header: magic, version 1, 24 bytes, types then strings back to back.
  assert.equal(blob.readUInt16LE(0), 0xeb9f);
  assert.equal(blob[2], 1);
  assert.equal(blob.readUInt32LE(4), 24);
  const typeLen = blob.readUInt32LE(12);
  assert.equal(blob.readUInt32LE(8), 0);
  assert.equal(blob.readUInt32LE(16), typeLen);
  assert.equal(24 + typeLen + blob.readUInt32LE(20), blob.length);
  // 1 INT + (PROTO + FUNC) per function.
  assert.deepEqual(typeIds, [3, 5, 7]);

  const btf = Btf.fromBuffer(blob);
  const long = btf.type(1);
  assert.equal(long.kind, 'int');
  if (long.kind === 'int') {
    assert.equal(long.name, 'long');
    assert.equal(long.size, 8);
    assert.equal(long.signed, true);
    assert.equal(long.bits, 64);
  }
  const main = btf.type(typeIds[0]);
  assert.equal(main.kind, 'func');
  if (main.kind === 'func') {
    assert.equal(main.name, 'tracepoint_syscalls_sys_enter_getppid');
    assert.equal(main.linkage, 'static');
  }
  assert.deepEqual(btf.funcProto('tracepoint_syscalls_sys_enter_getppid'), { params: [], ret: 1, variadic: false });
  const cb = btf.funcProto('cb1');
  assert.deepEqual(cb?.params.map((p) => [p.name, p.typeId]), [['map', 1], ['key', 1], ['value', 1], ['ctx', 1]]);
  assert.equal(cb?.ret, 1);
  // Parameter names are stored once.
  const strings = blob.toString('latin1', 24 + typeLen);
  assert.equal(strings.split('\0').filter((s) => s === 'key').length, 1);
});

test('func BTF names are identifiers the kernel accepts', () => {
  assert.equal(btfIdent('tracepoint:syscalls:sys_enter_read'), 'tracepoint_syscalls_sys_enter_read');
  assert.equal(btfIdent('uprobe:/bin/bash:readline'), 'uprobe__bin_bash_readline');
  assert.equal(btfIdent('1abc'), '_1abc');
  const { blob } = buildFuncBtf([{ name: 'interval:s:1', params: [] }]);
  assert.ok(blob.includes('interval_s_1\0'));
});
