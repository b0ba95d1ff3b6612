// Symbol-layer costs that show up in tool start-up and in printing stacks:
// loading kallsyms, and symbolising user frames across libc and a binary.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { compileC } from '../test/lib/fixtures.js';
import { openElf } from '../src/symbols/elf.js';
import { kallsyms, ksym, reloadKallsyms } from '../src/symbols/kallsyms.js';
import { forgetProcess } from '../src/symbols/procmaps.js';
import { runtimeAddress } from '../src/symbols/useraddr.js';
import { symbolizeUser } from '../src/symbols/usym.js';
import { type Row } from './lib/proc.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

/** A deterministic stream of pseudo-random numbers, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];

  reloadKallsyms();
  let t = performance.now();
  const k = kallsyms();
  rows.push({ name: `kallsyms load (${k.size} symbols)`, value: performance.now() - t, unit: 'ms' });
  if (k.available) {
    const fns = k.functions();
    const r = rng(1);
    const addrs = Array.from({ length: 100_000 }, () => fns[Math.floor(r() * fns.length)].addr + BigInt(Math.floor(r() * 16)));
    t = performance.now();
    for (const a of addrs) ksym(a);
    rows.push({ name: 'ksym lookup', value: ((performance.now() - t) * 1e6) / addrs.length, unit: 'ns/addr' });
  }

  const bin = compileC('sym_prog', ['-pie', '-fPIE', '-ldl'], 'sym_prog_pie');
  const child = spawn(bin, ['wait'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  while (!/^lib /m.test(out)) await once(child.stdout, 'data');
  const pid = Number(/^pid (\d+)/m.exec(out)![1]);
  try {
    // Frames: 80% in libc functions (including its debug-file-only statics), 20% in the binary.
    const libcFns = openElf(LIBC).symbols().filter((s) => s.size > 0);
    const binFns = openElf(bin).symbols().filter((s) => s.size > 0);
    const r = rng(2);
    const frames: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const [path, fns] = r() < 0.8 ? [LIBC, libcFns] : [bin, binFns];
      const s = fns[Math.floor(r() * fns.length)];
      const rt = runtimeAddress(pid, path, s.addr);
      if (rt !== null) frames.push(rt + Math.floor(r() * s.size));
    }
    forgetProcess(pid);
    t = performance.now();
    for (const f of frames) symbolizeUser(pid, f, { offset: true });
    rows.push({ name: `symbolize ${frames.length} user frames (first, maps read)`, value: performance.now() - t, unit: 'ms' });
    t = performance.now();
    for (const f of frames) symbolizeUser(pid, f, { offset: true });
    rows.push({ name: `symbolize ${frames.length} user frames (warm)`, value: performance.now() - t, unit: 'ms' });
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, 'exit');
  }
  return rows;
}
