// bpfkit biolatency against block I/O the test makes: O_DIRECT writes and a
// read on a file-backed loop device nothing else uses, so counts are exact
// (latencies are not: buckets are checked by shape). Every option of BCC's
// biolatency, in its text layout and its -j dictionaries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/fixtures.js';
import { bpfkit, loopDevice, runTool, runWl, toolWorkload } from './tools-helpers.js';
import { bccSlots, flagsText, log2HistText } from '../../src/tools/biolatency.js';

const root = !isRoot() && 'needs root';
const WRITES = 20;
let loop: ReturnType<typeof loopDevice> | undefined;
before(() => {
  if (!root) loop = loopDevice();
});
after(() => loop?.release());

const io = () => runWl(toolWorkload(), ['direct', loop!.dev, String(WRITES)]);

const ROW = /^ {0,9}(\d+) -> (\d+) +: (\d+) +\|(\**) *\|$/;

interface Hist {
  label: string;
  rows: { low: number; high: number; count: number; stars: number }[];
}

/** Parses BCC histograms out of text, each with the section line before it ("disk = x"), if any. */
function parseHists(text: string): (Hist & { section?: string })[] {
  const out: (Hist & { section?: string })[] = [];
  let section: string | undefined;
  for (const l of text.split('\n')) {
    const s = /^(disk|flags) = (.*)$/.exec(l);
    if (s) section = `${s[1]} = ${s[2]}`;
    const h = /^ {5}(\w+) +: count {5}distribution$/.exec(l);
    if (h) {
      out.push({ label: h[1], rows: [], section });
      section = undefined;
      continue;
    }
    const r = ROW.exec(l);
    if (r && out.length) out[out.length - 1].rows.push({ low: Number(r[1]), high: Number(r[2]), count: Number(r[3]), stars: r[4].length });
  }
  return out;
}

function checkShape(h: Hist): number {
  // Rows run from "0 -> 1" up, power-of-two ranges, the largest count with 40 stars, the last row non-empty.
  h.rows.forEach((r, i) => {
    assert.equal(r.low, i === 0 ? 0 : 2 ** i);
    assert.equal(r.high, 2 ** (i + 1) - 1);
  });
  const max = Math.max(...h.rows.map((r) => r.count));
  for (const r of h.rows) assert.equal(r.stars, Math.floor((40 * r.count) / max));
  assert.ok(h.rows[h.rows.length - 1].count > 0);
  return h.rows.reduce((a, r) => a + r.count, 0);
}

test('biolatency layout: BCC\'s log2 histogram from bpftrace buckets', () => {
  // bpftrace buckets: [neg, 0, 1, [2,4), [4,8), [8,16)] -> BCC slots 0..1, 2..3, 4..7, 8..15.
  const slots = bccSlots([0n, 1n, 2n, 0n, 6n, 3n]);
  assert.deepEqual(slots.slice(1), [3n, 0n, 6n, 3n]);
  assert.equal(
    log2HistText(slots, 'usecs'),
    [
      '     usecs               : count     distribution',
      '         0 -> 1          : 3        |********************                    |',
      '         2 -> 3          : 0        |                                        |',
      '         4 -> 7          : 6        |****************************************|',
      '         8 -> 15         : 3        |********************                    |',
      '',
    ].join('\n'),
  );
  assert.equal(log2HistText([], 'usecs'), '');
  assert.equal(flagsText(0x8801), 'Idle-Sync-Write');
  assert.equal(flagsText(0x800), 'Sync-Read');
  assert.equal(flagsText(0x3001), 'Priority-Metadata-Write');
});

test('biolatency: all disks, one histogram, the loop device\'s I/O in it', { skip: root }, async () => {
  const r = await runTool('biolatency', [], { work: io });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'Tracing block device I/O... Hit Ctrl-C to end.');
  assert.equal(r.lines[1], '');
  const hs = parseHists(r.stdout);
  assert.equal(hs.length, 1, r.stdout);
  assert.equal(r.lines[2], '     usecs               : count     distribution');
  assert.ok(checkShape(hs[0]) >= WRITES + 1);
});

test('biolatency -d DISK: that disk only, every request counted once', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-d', loop!.name], { work: io });
  const hs = parseHists(r.stdout);
  assert.equal(hs.length, 1, r.stdout);
  assert.equal(checkShape(hs[0]), WRITES + 1);
  const bad = bpfkit(['biolatency', '-d', 'nosuchdisk0']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no such disk 'nosuchdisk0'/);
});

test('biolatency -D: a histogram per disk', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-D'], { work: io });
  const hs = parseHists(r.stdout);
  const mine = hs.filter((h) => h.section === `disk = ${loop!.name}`);
  assert.equal(mine.length, 1, r.stdout);
  assert.equal(checkShape(mine[0]), WRITES + 1);
  assert.match(r.stdout, new RegExp(`\\n\\ndisk = ${loop!.name}\\n {5}usecs {15}: count {5}distribution\\n`));
});

test('biolatency -F: a histogram per set of I/O flags', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-F', '-d', loop!.name], { work: io });
  const hs = parseHists(r.stdout);
  const writes = hs.filter((h) => /^flags = (\w+-)*Write$/.test(h.section ?? ''));
  const reads = hs.filter((h) => /^flags = (\w+-)*Read$/.test(h.section ?? ''));
  assert.equal(writes.reduce((a, h) => a + checkShape(h), 0), WRITES, r.stdout);
  assert.equal(reads.reduce((a, h) => a + checkShape(h), 0), 1, r.stdout);
  assert.equal(writes.length + reads.length, hs.length);
  // O_DIRECT I/O is synchronous.
  for (const h of hs) assert.match(h.section!, /Sync-/);
  const both = bpfkit(['biolatency', '-D', '-F']);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /ERROR: can only use -D or -F\. Exiting\./);
});

test('biolatency -m: milliseconds', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-m', '-d', loop!.name], { work: io });
  const hs = parseHists(r.stdout);
  assert.equal(hs.length, 1, r.stdout);
  assert.equal(hs[0].label, 'msecs');
  assert.equal(checkShape(hs[0]), WRITES + 1);
});

test('biolatency -Q: queued time included, the same requests', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-Q', '-d', loop!.name], { work: io });
  const hs = parseHists(r.stdout);
  assert.equal(hs.length, 1, r.stdout);
  assert.equal(checkShape(hs[0]), WRITES + 1);
  assert.match(bpfkit(['biolatency', '-Q', '--program']).stdout, /rawtracepoint:block_io_start\n/);
});

test('biolatency -e: the average/total line', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-e', '-d', loop!.name], { work: io });
  const m = /\n\navg = (\d+) usecs, total: (\d+) usecs, count: (\d+)\n\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[3]), WRITES + 1);
  assert.equal(Number(m[1]), Math.floor(Number(m[2]) / (WRITES + 1)));
});

test('biolatency -T and interval/count: timestamped summaries, then exit', { skip: root }, async () => {
  const r = await runTool('biolatency', ['-T', '-d', loop!.name, '1', '2'], { work: io, interrupt: false, timeoutMs: 15000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  // Each summary: a blank line, the time, the histogram (if there was I/O).
  const stamps = r.stdout.match(/\n\n\d\d:\d\d:\d\d\n/g) ?? [];
  assert.equal(stamps.length, 2, r.stdout);
  const total = parseHists(r.stdout).reduce((a, h) => a + checkShape(h), 0);
  assert.equal(total, WRITES + 1);
});

test('biolatency -j: Python dictionaries, per disk with -D', { skip: root }, async () => {
  // -j prints nothing before its first summary, so there is no header to wait for.
  const r = await runTool('biolatency', ['-j', '-D'], { work: io, readyAfterMs: 3000 });
  assert.doesNotMatch(r.stdout, /Tracing/);
  const dicts = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l.replace(/'/g, '"')) as {
    ts: string; val_type: string; disk?: string; data: { 'interval-start': number; 'interval-end': number; count: number }[];
  });
  const mine = dicts.filter((d) => d.disk === loop!.name);
  assert.equal(mine.length, 1, r.stdout);
  assert.equal(mine[0].val_type, 'usecs');
  assert.match(mine[0].ts, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  mine[0].data.forEach((d, i) => {
    assert.equal(d['interval-start'], i === 0 ? 0 : 2 ** i);
    assert.equal(d['interval-end'], 2 ** (i + 1) - 1);
  });
  assert.equal(mine[0].data.reduce((a, d) => a + d.count, 0), WRITES + 1);
});
