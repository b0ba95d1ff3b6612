// The classic block I/O tools against O_DIRECT I/O on a loop device nothing
// else uses (biosnoop, bitesize, biostacks), and writeback against a file
// written and synced on the root file system.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../lib/fixtures.js';
import { heldReady, loopDevice, release, runTool, toolWorkload, TOOL_WL_COMM } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const WRITES = 5;
let loop: ReturnType<typeof loopDevice> | undefined;
before(() => {
  if (!root) loop = loopDevice();
});
after(() => loop?.release());

test('biosnoop: one line per I/O, with disk, issuing process and latency', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['direct', loop!.dev, String(WRITES)]);
  const r = await runTool('biosnoop', [], { work: () => release(w) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'TIME(ms)     DISK    COMM             PID    LAT(ms)');
  const mine = r.lines.filter((l) => l.slice(13, 20).trim() === loop!.name);
  assert.equal(mine.length, WRITES + 1, r.stdout);
  for (const l of mine) {
    // "%-12u %-7s %-16s %-6d %7d"
    assert.match(l.slice(0, 13), /^\d+ +$/);
    assert.equal(l.slice(13, 45), `${loop!.name.padEnd(7)} ${TOOL_WL_COMM.padEnd(16)} ${String(w.pid).padEnd(6)} `);
    assert.match(l.slice(45), /^ *\d+$/);
    assert.equal(l.length, 52);
  }
});

test('bitesize: I/O sizes per process name, at exit', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['direct', loop!.dev, String(WRITES)]);
  const r = await runTool('bitesize', [], { work: () => release(w) });
  assert.equal(r.lines[0], 'Tracing block device I/O... Hit Ctrl-C to end.');
  assert.match(r.stdout, /\nI\/O size \(bytes\) histograms by process name:\n\n/);
  const m = new RegExp(`\\n@\\[${TOOL_WL_COMM}\\]: \\n((?:\\[.*\\n)+)`).exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(m[1], `[4K, 8K)               ${WRITES + 1} |${'@'.repeat(52)}|\n`);
});

test('biostacks: I/O initialization latency per kernel stack', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['direct', loop!.dev, String(WRITES)]);
  const r = await runTool('biostacks', [], { work: () => release(w) });
  assert.equal(r.lines[0], 'Tracing block I/O with init stacks. Hit Ctrl-C to end.');
  // Each map entry: a stack of "    symbol+offset" frames as the key, then a histogram.
  const entries = r.stdout.split('\n@usecs[\n').slice(1).map((e) => {
    const [stack, hist] = e.split(']: \n');
    return { frames: stack.split('\n').filter(Boolean), hist: hist.split('\n').filter((l) => l.startsWith('[')) };
  });
  assert.ok(entries.length > 0, r.stdout);
  for (const e of entries) {
    for (const f of e.frames) assert.match(f, /^ {4}\S+\+\d+$/);
    assert.ok(e.hist.length > 0);
  }
  // The workload's direct I/O came through the block device's own read/write paths.
  const mine = entries.filter((e) => e.frames.some((f) => /blkdev_(direct_IO|write_iter|read_iter)/.test(f)));
  const count = mine.reduce((a, e) => a + e.hist.reduce((b, h) => b + Number(/\)\s+(\d+) \|/.exec(h)![1]), 0), 0);
  assert.ok(count >= WRITES + 1, r.stdout);
});

test('writeback: writeback of a synced file, with device, pages, reason and duration', { skip: root }, async () => {
  const dir = mkdtempSync(join('/var/tmp', 'bpfkit-wb-'));
  try {
    const st = statSync(dir);
    const dev = `${Math.floor(st.dev / 256) & 0xfff}:${(st.dev & 0xff) | ((st.dev >> 12) & 0xfff00)}`;
    const w = await heldReady(toolWorkload(), ['writefile', join(dir, 'data'), String(4 << 20), 'sync']);
    const r = await runTool('writeback', [], { work: () => release(w) });
    assert.deepEqual(r.lines.slice(0, 2), ['Tracing writeback... Hit Ctrl-C to end.', 'TIME      DEVICE   PAGES    REASON           ms']);
    for (const l of r.lines.slice(2).filter(Boolean)) assert.match(l, /^\d\d:\d\d:\d\d  \S+ +\d+ +\S+ +\d+\.\d{3}$/);
    const synced = r.lines.filter((l) => l.slice(10, 19).trim() === dev && / sync +\d+\.\d{3}$/.test(l));
    assert.ok(synced.length > 0, `no sync writeback of ${dev}:\n${r.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
