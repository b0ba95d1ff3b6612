// Uprobe target resolution: bpftrace's rules for binaries, libraries and
// function specs, checked against this machine's files (and bpftrace's own
// listing when it is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { compileC } from '../lib/fixtures.js';
import { openElf } from '../../src/symbols/elf.js';
import { ldCache, parseLdCache, parseLdconfigOutput } from '../../src/symbols/ldcache.js';
import {
  listFunctions, matchFunctions, parseFuncSpec, resolveBinary, resolveLibrary, resolveUprobe, wildcardRegExp,
} from '../../src/symbols/resolve.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const nopie = compileC('sym_prog', ['-no-pie', '-ldl'], 'sym_prog_nopie');
const pie = compileC('sym_prog', ['-pie', '-fPIE', '-ldl'], 'sym_prog_pie');

test('ld.so.cache: parsed from the binary file, agreeing with ldconfig -p', () => {
  const entries = parseLdCache(readFileSync('/etc/ld.so.cache'));
  assert.ok(entries && entries.length > 10);
  const ref = parseLdconfigOutput(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }));
  assert.deepEqual(
    entries.filter((e) => (e.flags & 0xffff) === 0x0303).map((e) => `${e.soname} ${e.path}`),
    ref.filter((e) => e.flags === 0x0303).map((e) => `${e.soname} ${e.path}`),
  );
  assert.ok(ldCache().some((e) => e.soname === 'libc.so.6'));
  assert.equal(parseLdCache(Buffer.from('not a cache')), null);
});

test('resolve: libc by every spelling, and malloc in it', () => {
  assert.equal(resolveLibrary('libc'), LIBC);
  assert.equal(resolveLibrary('libc.so.6'), LIBC);
  assert.equal(resolveLibrary('c'), null);
  assert.deepEqual(resolveBinary('libc'), [LIBC]);
  assert.deepEqual(resolveBinary('libc.so.6'), [LIBC]);
  assert.deepEqual(resolveBinary(LIBC), [LIBC]);
  const [t] = resolveUprobe(LIBC, 'malloc');
  const malloc = openElf(LIBC).findSymbol('malloc')!;
  assert.deepEqual(t, { path: LIBC, name: 'malloc', funcOffset: 0, vaddr: malloc.addr, offset: openElf(LIBC).vaddrToFileOffset(malloc.addr) });
  assert.ok(resolveUprobe(LIBC, 'mallo*').length > 1);
  assert.ok(resolveLibrary('libc', process.pid)?.endsWith('libc.so.6'));
  assert.equal(resolveLibrary('libnothere', process.pid), null);
});

test('resolve: bare program names through PATH, once per real file', () => {
  const bash = resolveBinary('bash');
  assert.equal(bash.length, 1);
  assert.match(bash[0], /\/bin\/bash$/);
  assert.deepEqual(resolveBinary('sym_prog_nopie', { path: `/nonexistent:${nopie.replace(/\/[^/]+$/, '')}` }), [nopie]);
  assert.deepEqual(resolveBinary('no-such-program-here'), []);
  assert.deepEqual(resolveBinary('/etc/passwd'), [], 'not an ELF');
  assert.deepEqual(resolveBinary(nopie.replace('sym_prog_nopie', 'sym_prog_*pie')).sort(), [nopie, pie].sort());
});

test('resolve: function specs: names, offsets, addresses, wildcards', () => {
  assert.deepEqual(parseFuncSpec('readline'), { kind: 'name', name: 'readline' });
  assert.deepEqual(parseFuncSpec('read*'), { kind: 'wildcard', pattern: 'read*' });
  assert.deepEqual(parseFuncSpec('main+16'), { kind: 'offset', name: 'main', offset: 16 });
  assert.deepEqual(parseFuncSpec('main+0x10'), { kind: 'offset', name: 'main', offset: 16 });
  assert.deepEqual(parseFuncSpec('0x401136'), { kind: 'address', addr: 0x401136 });
  for (const bin of [nopie, pie]) {
    const e = openElf(bin);
    const beta = e.findSymbol('sym_beta')!;
    const [a] = resolveUprobe(bin, 'sym_beta+4');
    assert.equal(a.vaddr, beta.addr + 4);
    assert.equal(a.offset, e.vaddrToFileOffset(beta.addr)! + 4);
    assert.throws(() => resolveUprobe(bin, `sym_beta+${beta.size + 10}`), /beyond the end/);
    assert.equal(resolveUprobe(bin, `sym_beta+${beta.size + 10}`, { unsafe: true })[0].funcOffset, beta.size + 10);
    const [x] = resolveUprobe(bin, `0x${beta.addr.toString(16)}`);
    assert.deepEqual([x.name, x.offset], [null, e.vaddrToFileOffset(beta.addr)]);
    assert.deepEqual(resolveUprobe(bin, 'sym_*').map((t) => t.name).sort(), ['sym_alpha', 'sym_beta', 'sym_hidden']);
    assert.throws(() => resolveUprobe(bin, 'no_such_function'), /no function/);
  }
  assert.ok(wildcardRegExp('a.b*').test('a.bcd'));
  assert.ok(!wildcardRegExp('a.b*').test('axbcd'));
});

test('resolve: function listing equals bpftrace -l for libc', { skip: !existsSync('/usr/bin/bpftrace') && 'bpftrace not installed' }, () => {
  const ref = execFileSync('/usr/bin/bpftrace', ['-l', `uprobe:${LIBC}:*`], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .trim().split('\n').map((l) => l.slice(`uprobe:${LIBC}:`.length)).sort();
  const ours = listFunctions(LIBC);
  assert.equal(ours.length, ref.length);
  assert.deepEqual(ours, ref);
  assert.deepEqual(matchFunctions(LIBC, 'malloc_*'), ref.filter((n) => n.startsWith('malloc_')));
});
