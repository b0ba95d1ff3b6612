// Kernel symbols: parsing (from text we control) and lookups in this
// machine's /proc/kallsyms, whose addresses are only visible to root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isRoot } from '../lib/fixtures.js';
import { formatKsym, Kallsyms, kallsyms, kaddr, kernelFunctions, ksym } from '../../src/symbols/kallsyms.js';

const SAMPLE = [
  'ffffffff81000000 T _stext',
  'ffffffff81000000 T _text',
  'ffffffff81000100 t __pfx_do_thing',
  'ffffffff81000110 t do_thing',
  'ffffffff81000200 T vfs_read',
  'ffffffff81000300 W weak_fn',
  'ffffffff82000000 D some_data',
  'ffffffffc0002000 t mod_fn\t[mymod]',
  'ffffffffc0001000 t mod_first\t[mymod]',
  'ffffffffc0003000 t bpf_prog_abc_F\t[bpf]',
  '0000000000000000 A fixed_percpu_data',
  '',
].join('\n');

test('kallsyms: parses, sorts module symbols, resolves aliases and offsets', () => {
  const k = new Kallsyms(SAMPLE);
  assert.equal(k.size, 10);
  assert.equal(k.address('vfs_read'), 0xffffffff81000200n);
  assert.equal(k.address('nope'), 0n);
  assert.deepEqual(k.lookup(0xffffffff81000200n), { name: 'vfs_read', offset: 0 });
  assert.deepEqual(k.lookup(0xffffffff81000238n), { name: 'vfs_read', offset: 0x38 });
  assert.deepEqual(k.lookup(0xffffffff81000004n), { name: '_stext', offset: 4 });
  assert.deepEqual(k.lookup(0xffffffffc0001010n), { name: 'mod_first', offset: 0x10, module: 'mymod' });
  assert.deepEqual(k.lookup(0xffffffffc0002000n), { name: 'mod_fn', offset: 0, module: 'mymod' });
  assert.equal(k.lookup(0x1000n), null);
  assert.deepEqual(
    k.functions().map((f) => (f.module ? `${f.module}:${f.name}` : f.name)),
    ['_stext', '_text', 'do_thing', 'vfs_read', 'weak_fn', 'mymod:mod_first', 'mymod:mod_fn'],
  );
  assert.equal(new Kallsyms(Buffer.from(SAMPLE)).size, 10);
  // Non-root view: every address zero.
  assert.equal(new Kallsyms('0000000000000000 T vfs_read\n').available, false);
});

test('kallsyms: ksym(kaddr("vfs_read")) is vfs_read+0 on this kernel', { skip: !isRoot() && 'kallsyms addresses need root' }, () => {
  const a = kaddr('vfs_read');
  assert.ok(a > 0xffff_0000_0000_0000n);
  assert.deepEqual(ksym(a), { name: 'vfs_read', offset: 0 });
  assert.equal(formatKsym(a), 'vfs_read');
  assert.equal(formatKsym(a + 5n, { offset: true }), 'vfs_read+5');
  assert.equal(formatKsym(0x1234n), '0x1234');
  // Every line of the file: its first symbol at that address is what we return.
  const text = readFileSync('/proc/kallsyms', 'utf8');
  const line = text.split('\n').find((l) => / [Tt] vfs_write$/.test(l))!;
  assert.equal(kaddr('vfs_write'), BigInt(`0x${line.split(' ')[0]}`));
  const fns = kernelFunctions();
  assert.ok(fns.length > 1000);
  assert.ok(fns.some((f) => f.name === 'vfs_read'));
  assert.ok(!fns.some((f) => f.name.startsWith('__pfx_')));
  assert.equal(kallsyms(), kallsyms());
});
