// The kprobe-based tools (src/tools) run as a user runs them, `bpfkit TOOL`,
// in the guest, around a workload (fixtures/kcalls.c) whose calls the test
// knows; each test checks the tool's header, its columns and the workload's
// own events. The tools trace the whole system, so counts are lower bounds
// where other processes (the test runner itself) make the same calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cols, runTool, runWl } from '../kernel/tools-helpers.js';
import { guestOnly, kernelFixture } from './guest-env.js';

const kcalls = (): string => kernelFixture('kcalls');

test('vfscount: every vfs_* function hit, with the workload\'s reads and opens counted', { skip: guestOnly, timeout: 240_000 }, async () => {
  const READS = 2000;
  const OPENS = 300;
  const t0 = Date.now();
  let readyMs = 0;
  const r = await runTool('vfscount', [], {
    ready: /Hit Ctrl-C to end/,
    timeoutMs: 200_000,
    work: async () => {
      readyMs = Date.now() - t0;
      const w = await runWl(kcalls(), ['read', '/dev/zero', '4096', String(READS), 'open', '/etc/hostname', String(OPENS)]);
      assert.equal(w.code, 0);
    },
  });
  process.stderr.write(`# vfscount attached in ${readyMs} ms\n`);
  assert.equal(r.code, 0, r.stderr);
  // Tools print no "Attaching" banner, like BCC's.
  assert.equal(r.lines[0], 'Tracing VFS calls... Hit Ctrl-C to end.');
  const counts = new Map<string, number>();
  for (const l of r.lines.slice(1)) {
    if (l === '') continue;
    const m = /^@\[(\w+)\]: (\d+)$/.exec(l);
    assert.ok(m, `a map line: ${l}`);
    counts.set(m[1], Number(m[2]));
  }
  for (const f of counts.keys()) assert.match(f, /^vfs_/);
  assert.ok((counts.get('vfs_read') ?? 0) >= READS, `vfs_read ${counts.get('vfs_read')} >= ${READS}`);
  assert.ok((counts.get('vfs_open') ?? 0) >= OPENS, `vfs_open ${counts.get('vfs_open')} >= ${OPENS}`);
  // Sorted by count, as bpftrace prints maps.
  const values = [...counts.values()];
  assert.deepEqual(values, [...values].sort((a, b) => a - b));
});

test('dcsnoop: the workload\'s dcache lookups, fast-path hits (R) and d_lookup calls (M), in columns', { skip: guestOnly, timeout: 180_000 }, async () => {
  const name = `bpfkit_dc_${randomBytes(4).toString('hex')}`;
  let pid = 0;
  const r = await runTool('dcsnoop', [], {
    ready: /FILE\n/,
    timeoutMs: 150_000,
    work: async () => {
      // Opening a missing name: the path walk finds "tmp" in the fast path,
      // then misses the last component, which goes through d_lookup.
      const w = await runWl(kcalls(), ['open', `/tmp/${name}`, '3']);
      pid = w.pid;
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'Tracing dcache lookups... Hit Ctrl-C to end.');
  assert.deepEqual(cols(r.lines[1]), ['TIME', 'PID', 'COMM', 'T', 'FILE']);
  const ours = r.lines.slice(2).map(cols).filter((c) => c[1] === String(pid));
  assert.ok(ours.length > 0, `lines of pid ${pid}:\n${r.lines.join('\n')}`);
  for (const c of ours) {
    assert.equal(c.length, 5, c.join(' '));
    assert.match(c[0], /^\d+$/);
    // Before its exec the workload is still node (the exec's own path walk).
    assert.ok(c[2] === 'kcalls' || c[2] === 'node', c.join(' '));
    assert.match(c[3], /^[RM]$/);
  }
  // FILE is the rest of the path from the component looked up (bpftrace's
  // dcsnoop reads the nameidata's `last` name, which points into the path).
  const seen = ours.map((c) => c.join(' ')).join('; ');
  assert.ok(ours.some((c) => c[3] === 'R' && c[4] === `tmp/${name}`), `an R lookup of "tmp": ${seen}`);
  // tmpfs keeps no negative dentries: every open of the missing name goes to d_lookup.
  assert.equal(ours.filter((c) => c[3] === 'M' && c[4] === name).length, 3, `one M lookup of ${name} per open: ${seen}`);
});
