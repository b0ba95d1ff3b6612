// User-space symbolisation of a live fixture process (PIE executable, a
// dlopen'ed library, libc), after it exits, and through perf maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { compileC } from '../lib/fixtures.js';
import { openElf } from '../../src/symbols/elf.js';
import { PerfMap } from '../../src/symbols/perfmap.js';
import {
  findMapping, forgetProcess, parseMaps, processMaps, rememberProcess,
} from '../../src/symbols/procmaps.js';
import { resolveUserAddress, runtimeAddress } from '../../src/symbols/useraddr.js';
import { resolveUser, symbolizeUser } from '../../src/symbols/usym.js';

const pie = compileC('sym_prog', ['-pie', '-fPIE', '-ldl'], 'sym_prog_pie');
const nopie = compileC('sym_prog', ['-no-pie', '-ldl'], 'sym_prog_nopie');
const lib = compileC('libsymtest', ['-shared', '-fPIC'], 'libsymtest.so');
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

interface Running {
  pid: number;
  addrs: Record<string, number>;
  stop: () => Promise<void>;
}

/** Starts the fixture in "wait" mode and reads back where its functions landed. */
async function start(bin: string, withLib: boolean): Promise<Running> {
  const child = spawn(bin, ['wait', ...(withLib ? [lib] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  while (!/^lib /m.test(out)) {
    const [exit] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then((v) => ['exit', ...v])]);
    if (exit === 'exit') throw new Error(`fixture exited: ${out}`);
  }
  const addrs: Record<string, number> = {};
  for (const m of out.matchAll(/^(\w+) (0x[0-9a-f]+|\(nil\)|\d+)$/gm)) addrs[m[1]] = m[2] === '(nil)' ? 0 : Number(m[2]);
  return {
    pid: addrs.pid,
    addrs,
    stop: async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

test('procmaps: parses paths with spaces, deleted files and pseudo mappings', () => {
  const maps = parseMaps([
    '7f0000001000-7f0000002000 r-xp 00001000 fe:01 1234                       /opt/my app/lib x.so (deleted)',
    '55d0c5e00000-55d0c5e2e000 r--p 00000000 fe:01 99                         /usr/bin/bash',
    '7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]',
    '7f0000003000-7f0000004000 rw-p 00000000 00:00 0 ',
    'garbage',
  ].join('\n'));
  assert.equal(maps.length, 4);
  assert.equal(maps[0].path, '[vdso]');
  const lib = maps.find((m) => m.inode === 1234)!;
  assert.deepEqual(lib, {
    start: 0x7f0000001000, end: 0x7f0000002000, perms: 'r-xp', offset: 0x1000, dev: 'fe:01', inode: 1234, path: '/opt/my app/lib x.so', deleted: true,
  });
  assert.equal(maps.find((m) => m.start === 0x7f0000003000)!.path, '');
});

for (const [label, bin] of [['PIE', pie], ['non-PIE', nopie]] as const) {
  test(`usym ${label}: a live process's functions, its dlopen'ed library and libc symbolise`, async () => {
    const p = await start(bin, true);
    try {
      assert.equal(symbolizeUser(p.pid, p.addrs.sym_beta), 'sym_beta');
      assert.equal(symbolizeUser(p.pid, p.addrs.sym_beta + 3, { offset: true }), 'sym_beta+3');
      assert.equal(symbolizeUser(p.pid, BigInt(p.addrs.sym_hidden + 1), { offset: true }), 'sym_hidden+1');
      assert.equal(symbolizeUser(p.pid, p.addrs.lib + 2, { offset: true }), 'symtest_add+2');
      const r = resolveUserAddress(p.pid, p.addrs.sym_alpha)!;
      assert.equal(r.vaddr, openElf(bin).findSymbol('sym_alpha')!.addr);
      assert.equal(r.mapping.path, bin);
      assert.equal(r.fileOffset, openElf(bin).vaddrToFileOffset(r.vaddr!));
      assert.equal(resolveUser(p.pid, p.addrs.lib)?.module, lib);
      // libc: link-time address -> run-time address (load bias) -> back to the name.
      const malloc = openElf(LIBC).findSymbol('malloc')!;
      const rt = runtimeAddress(p.pid, LIBC, malloc.addr)!;
      assert.ok(rt > malloc.addr);
      assert.equal(symbolizeUser(p.pid, rt + 4, { offset: true }), 'malloc+4');
      assert.match(symbolizeUser(p.pid, rt, { module: true }), /^malloc \(\/(usr\/)?lib\/x86_64-linux-gnu\/libc\.so\.6\)$/);
      assert.equal(runtimeAddress(p.pid, bin, openElf(bin).findSymbol('sym_beta')!.addr), p.addrs.sym_beta);
      // Unknown addresses print as hex.
      assert.equal(symbolizeUser(p.pid, 0x10), '0x10');
      assert.equal(symbolizeUser(p.pid, 0x7fff_dead_0000n, { offset: true }), '0x7fffdead0000');
    } finally {
      await p.stop();
    }
  });
}

test('usym: a remembered process still symbolises after it exits', async () => {
  const p = await start(pie, true);
  assert.ok(rememberProcess(p.pid));
  await p.stop();
  assert.equal(processMaps(p.pid) !== null, true);
  assert.equal(symbolizeUser(p.pid, p.addrs.sym_beta + 1, { offset: true }), 'sym_beta+1');
  assert.equal(symbolizeUser(p.pid, p.addrs.lib, { offset: true }), 'symtest_add+0');
  forgetProcess(p.pid);
  assert.equal(symbolizeUser(p.pid, p.addrs.sym_beta), `0x${p.addrs.sym_beta.toString(16)}`);
  assert.equal(rememberProcess(p.pid), false);
});

test('usym: our own process symbolises libc', () => {
  const malloc = openElf(LIBC).findSymbol('malloc')!;
  const rt = runtimeAddress(process.pid, LIBC, malloc.addr)!;
  assert.ok(rt, 'node maps libc');
  assert.match(findMapping(process.pid, rt)!.path, /libc\.so\.6$/);
  assert.equal(symbolizeUser(process.pid, rt), 'malloc');
});

test('perfmap: lookups, overlapping JIT entries, and use for anonymous memory', async () => {
  const pm = new PerfMap('1000 20 LazyCompile:~foo a.js:1\n0x2000 0x10 bar\nnot a line\n1010 8 newer\n');
  assert.equal(pm.size, 3);
  assert.equal(pm.lookup(0x1004)?.name, 'LazyCompile:~foo a.js:1');
  assert.equal(pm.lookup(0x1012)?.name, 'newer');
  assert.equal(pm.lookup(0x2010), null);
  assert.equal(pm.lookup(0x200f)?.name, 'bar');

  const p = await start(pie, false);
  const path = `/tmp/perf-${p.pid}.map`;
  try {
    // Pretend the heap holds JIT code.
    const heap = processMaps(p.pid)!.find((m) => m.path === '[heap]' || (m.path === '' && m.perms.startsWith('rw')))!;
    writeFileSync(path, `${heap.start.toString(16)} 40 jitted_function\n`);
    assert.equal(symbolizeUser(p.pid, heap.start + 0x10, { offset: true }), 'jitted_function+16');
    assert.equal(resolveUser(p.pid, heap.start)?.module, path);
    // File-backed code never consults the perf map.
    assert.equal(symbolizeUser(p.pid, p.addrs.sym_beta), 'sym_beta');
  } finally {
    rmSync(path, { force: true });
    await p.stop();
  }
});

test('perfmap: node --perf-basic-prof code symbolises through its perf map', async () => {
  const child = spawn(process.execPath, ['--perf-basic-prof', '-e', 'function symHotLoop(n){let s=0;for(let i=0;i<n;i++)s+=i%7;return s}for(let i=0;i<200;i++)symHotLoop(1e5);console.log("ready");process.stdin.resume();'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const path = `/tmp/perf-${child.pid}.map`;
  try {
    await once(child.stdout, 'data');
    const entries = readFileSync(path, 'utf8').trim().split('\n');
    const line = entries.find((l) => l.includes('symHotLoop'))!;
    assert.ok(line, 'node wrote an entry for the hot function');
    const [start, , ...name] = line.split(' ');
    const addr = parseInt(start, 16) + 1;
    assert.equal(symbolizeUser(child.pid!, addr), name.join(' '));
    assert.equal(symbolizeUser(child.pid!, addr, { offset: true }), `${name.join(' ')}+1`);
  } finally {
    child.stdin.end();
    child.kill();
    if (child.exitCode === null) await once(child, 'exit');
    rmSync(path, { force: true });
  }
});
