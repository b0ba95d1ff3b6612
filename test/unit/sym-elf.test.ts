// The ELF reader against binutils' view of the same files (nm, readelf), on
// fixtures built here: a non-PIE and a PIE executable and a shared library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileC, repoRoot } from '../lib/fixtures.js';
import { elfFromBuffer, openElf, plainName } from '../../src/symbols/elf.js';
import { xzDecompress } from '../../src/symbols/xz.js';

const binDir = join(repoRoot, 'test/fixtures/bin');
const nopie = compileC('sym_prog', ['-no-pie', '-ldl'], 'sym_prog_nopie');
const pie = compileC('sym_prog', ['-pie', '-fPIE', '-ldl'], 'sym_prog_pie');
const lib = compileC('libsymtest', ['-shared', '-fPIC'], 'libsymtest.so');

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** `nm` defined text symbols: name -> address. */
function nmFunctions(path: string, dynamic = false): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of run('nm', [...(dynamic ? ['-D'] : []), '--defined-only', path]).split('\n')) {
    const m = /^([0-9a-f]+) ([TtWwi]) (\S+)$/.exec(line);
    if (m) out.set(m[3].replace(/@.*/, ''), parseInt(m[1], 16));
  }
  return out;
}

/** `readelf -lW` PT_LOAD rows. */
function readelfLoads(path: string): { offset: number; vaddr: number; filesz: number; memsz: number }[] {
  const out = [];
  for (const line of run('readelf', ['-lW', path]).split('\n')) {
    const m = /^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+)/.exec(line);
    if (m) out.push({ offset: parseInt(m[1], 16), vaddr: parseInt(m[2], 16), filesz: parseInt(m[3], 16), memsz: parseInt(m[4], 16) });
  }
  return out;
}

for (const [label, bin, isPie] of [['non-PIE', nopie, false], ['PIE', pie, true]] as const) {
  test(`elf ${label}: header, type and PT_LOAD segments match readelf`, () => {
    const e = openElf(bin);
    assert.equal(e.isPie, isPie);
    assert.equal(e.isSharedLibrary, false);
    assert.equal(e.machine, 62);
    const loads = readelfLoads(bin);
    assert.ok(loads.length >= 2);
    assert.deepEqual(
      e.loads.map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz, memsz: p.memsz })),
      loads,
    );
  });

  test(`elf ${label}: every function symbol matches nm`, () => {
    const e = openElf(bin);
    const nm = nmFunctions(bin);
    assert.ok(nm.size > 5);
    for (const [name, addr] of nm) {
      const s = e.findSymbol(name);
      assert.ok(s, `missing ${name}`);
      assert.equal(s.addr, addr, name);
    }
    for (const name of ['sym_alpha', 'sym_beta', 'sym_hidden', 'main']) assert.ok(e.symbols().some((s) => s.name === name), name);
    const syms = e.symbols();
    for (let i = 1; i < syms.length; i++) assert.ok(syms[i - 1].addr <= syms[i].addr, 'sorted by address');
    assert.equal(e.findSymbol('sym_data_object')?.type, 'object');
    assert.equal(e.findSymbol('sym_hidden')?.bind, 'local');
  });

  test(`elf ${label}: symbolize and vaddr <-> file offset`, () => {
    const e = openElf(bin);
    const beta = e.findSymbol('sym_beta')!;
    assert.ok(beta.size > 0);
    assert.deepEqual(
      { name: e.symbolize(beta.addr)?.sym.name, off: e.symbolize(beta.addr)?.offset },
      { name: 'sym_beta', off: 0 },
    );
    assert.equal(e.symbolize(beta.addr + beta.size - 1)?.offset, beta.size - 1);
    assert.equal(e.symbolize(BigInt(beta.addr + 3))?.sym.name, 'sym_beta');
    assert.equal(e.symbolize(1), null);
    for (const p of readelfLoads(bin)) {
      assert.equal(e.vaddrToFileOffset(p.vaddr + 16), p.offset + 16);
      assert.equal(e.fileOffsetToVaddr(p.offset + 16), p.vaddr + 16);
    }
    const off = e.vaddrToFileOffset(beta.addr)!;
    // The bytes at that file offset are the function's code: compare with objdump's view of the start.
    const dis = run('objdump', ['-d', `--start-address=0x${beta.addr.toString(16)}`, `--stop-address=0x${(beta.addr + 4).toString(16)}`, bin]);
    const bytes = /^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)/m.exec(dis)![1].trim().split(' ');
    const file = execFileSync('od', ['-An', '-tx1', '-j', String(off), '-N', String(bytes.length), bin], { encoding: 'utf8' }).trim().split(/\s+/);
    assert.deepEqual(file, bytes);
    assert.equal(e.vaddrToFileOffset(0xdead_0000_0000), null);
  });
}

test('elf: build id and debuglink', () => {
  const e = openElf(pie);
  const note = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', pie]))![1];
  assert.equal(e.buildId, note);
  assert.equal(e.debugLink, null);
  const stripped = join(binDir, 'sym_prog_linked');
  const dbg = join(binDir, 'sym_prog_linked.debug');
  run('objcopy', ['--only-keep-debug', pie, dbg]);
  run('objcopy', ['--strip-all', `--add-gnu-debuglink=${dbg}`, pie, stripped]);
  const s = openElf(stripped);
  assert.equal(s.debugLink?.file, 'sym_prog_linked.debug');
  const crc = execFileSync('python3', ['-c', `import zlib,sys;print(zlib.crc32(open(sys.argv[1],'rb').read()))`, dbg], { encoding: 'utf8' });
  assert.equal(s.debugLink?.crc, Number(crc));
  // The stripped binary keeps only .dynsym; its static functions come from the debug file next to it.
  assert.equal(s.section('.symtab'), undefined);
  assert.equal(s.debugFile()?.path, dbg);
  assert.equal(s.findSymbol('sym_hidden')?.addr, e.findSymbol('sym_hidden')?.addr);
});

test('elf: libc resolves stripped symbols through /usr/lib/debug when installed', () => {
  const libc = openElf('/lib/x86_64-linux-gnu/libc.so.6');
  assert.ok(libc.isPie && libc.isSharedLibrary);
  const malloc = libc.findSymbol('malloc');
  assert.ok(malloc && malloc.dynamic && malloc.type === 'func');
  assert.equal(nmFunctions('/lib/x86_64-linux-gnu/libc.so.6', true).get('malloc'), malloc.addr);
  // A versioned .symtab name (`memcpy@@GLIBC_2.14`) is found by its plain name.
  assert.equal(plainName('memcpy@@GLIBC_2.14'), 'memcpy');
  const mc = libc.findSymbol('memcpy');
  assert.ok(mc && mc.plain === 'memcpy');
  if (libc.debugFile()) {
    assert.ok(libc.symbols().length > 5000, 'debug file symbols merged');
    assert.ok(libc.symbols().some((s) => s.name.includes('@@')));
  }
});

test('elf: shared library symbols match nm -D, local ones nm', () => {
  const e = openElf(lib);
  assert.ok(e.isPie && e.isSharedLibrary);
  assert.equal(e.findSymbol('symtest_add')?.addr, nmFunctions(lib, true).get('symtest_add'));
  assert.equal(e.findSymbol('symtest_add')?.dynamic, true);
  assert.equal(e.findSymbol('symtest_local')?.addr, nmFunctions(lib).get('symtest_local'));
});

test('elf: .gnu_debugdata (MiniDebugInfo) symbols are read through the xz decoder', () => {
  // Built the way distributions do: the symtab of a stripped copy, xz'd into a section.
  const mini = join(binDir, 'sym_prog_mini.elf');
  const out = join(binDir, 'sym_prog_minidebug');
  run('objcopy', ['--strip-debug', '--remove-section=.comment', nopie, mini]);
  run('xz', ['-f', '-k', mini]);
  run('objcopy', ['--strip-all', `--add-section=.gnu_debugdata=${mini}.xz`, nopie, out]);
  const e = openElf(out);
  assert.equal(e.section('.symtab'), undefined);
  assert.ok(e.section('.gnu_debugdata'));
  assert.equal(e.findSymbol('sym_hidden')?.addr, openElf(nopie).findSymbol('sym_hidden')?.addr);
  assert.equal(e.symbolize(openElf(nopie).findSymbol('sym_beta')!.addr + 2)?.sym.name, 'sym_beta');
});

test('xz: decodes streams of every preset and check type like xz -d', () => {
  const src = join(binDir, 'sym_xz_input');
  copyFileSync(pie, src);
  for (const args of [['-0'], ['-6'], ['-9e'], ['--check=none'], ['--check=crc64'], ['--check=sha256'], ['--block-size=4096']]) {
    const packed = execFileSync('xz', ['-c', ...args, src]);
    const expect = execFileSync('xz', ['-dc'], { input: packed, maxBuffer: 1 << 26 });
    assert.ok(xzDecompress(packed).equals(expect), args.join(' '));
  }
  const empty = execFileSync('xz', ['-c'], { input: Buffer.alloc(0) });
  assert.equal(xzDecompress(empty).length, 0);
  const bad = execFileSync('xz', ['-c'], { input: Buffer.from('hello hello hello') });
  bad[bad.length - 20] ^= 0xff;
  assert.throws(() => xzDecompress(bad));
});

test('elf: rejects non-ELF and 32-bit files with a clear error', () => {
  const txt = join(binDir, 'sym_not_elf.txt');
  writeFileSync(txt, 'hello\n');
  assert.throws(() => openElf(txt), /not an ELF file/);
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 1;
  h[5] = 1;
  assert.throws(() => elfFromBuffer('x', h), /64-bit little-endian/);
});

test('elf: cached per file identity, re-read after the file changes', () => {
  const copy = join(binDir, 'sym_prog_copy');
  copyFileSync(nopie, copy);
  const a = openElf(copy);
  assert.equal(openElf(copy), a);
  copyFileSync(pie, copy);
  const b = openElf(copy);
  assert.notEqual(b, a);
  assert.equal(b.isPie, true);
});
