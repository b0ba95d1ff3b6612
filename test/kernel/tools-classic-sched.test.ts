// The classic scheduler and memory tools: CPU-bound workloads pinned with
// taskset (cpuwalk, runqlen, runqlat) and a process that runs out of memory
// in its own memory cgroup (oomkill).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isRoot } from '../lib/fixtures.js';
import { heldReady, runTool, toolWorkload, TOOL_WL_COMM } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const CPU = availableParallelism() > 1 ? 1 : 0;

/** `n` busy loops of `ms` milliseconds, all pinned to one CPU. */
function spinners(n: number, ms: number, cpu = CPU): Promise<unknown> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise((resolve) => spawn('taskset', ['-c', String(cpu), toolWorkload(), '-n', 'spin', String(ms)], { stdio: 'ignore' }).on('close', resolve))),
  );
}

/** lhist rows of map `name` in bpftrace's text: [low, count]. */
function lhistRows(text: string, name: string): [number, number][] {
  const m = new RegExp(`\\n${name.replace(/[[\]@]/g, '\\$&')}: \\n((?:\\[.*\\n)+)`).exec(text);
  assert.ok(m, text);
  return m[1].trim().split('\n').map((l) => {
    const r = /^\[(\d+), (\d+)\) +(\d+) \|@* *\|$/.exec(l);
    assert.ok(r, l);
    return [Number(r[1]), Number(r[3])];
  });
}

test('cpuwalk: samples land on the CPU a busy process is pinned to', { skip: root }, async () => {
  const r = await runTool('cpuwalk', [], { work: () => spinners(1, 1500) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'Sampling CPU at 99hz... Hit Ctrl-C to end.');
  const rows = lhistRows(r.stdout, '@cpu');
  const pinned = rows.find(([cpu]) => cpu === CPU);
  // 1.5 s at 99 Hz on that CPU, less scheduling slack.
  assert.ok(pinned && pinned[1] >= 100, r.stdout);
});

test('runqlen: two busy processes on one CPU make a queue of one', { skip: root }, async () => {
  const r = await runTool('runqlen', [], { work: () => spinners(2, 1500) });
  assert.equal(r.lines[0], 'Sampling run queue length at 99 Hertz... Hit Ctrl-C to end.');
  const rows = lhistRows(r.stdout, '@runqlen');
  const one = rows.find(([len]) => len === 1);
  assert.ok(one && one[1] >= 50, r.stdout);
});

test('runqlat: run queue latency histogram with waits of a time slice', { skip: root }, async () => {
  const r = await runTool('runqlat', [], { work: () => spinners(2, 1000) });
  assert.equal(r.lines[0], 'Tracing CPU scheduler... Hit Ctrl-C to end.');
  const m = /\n@usecs: \n((?:\[.*\n)+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  let waitedLong = 0;
  for (const l of m[1].trim().split('\n')) {
    const row = /^\[(\d+)([KM]?)(?:, (\d+)([KM]?)\))?\]? +(\d+) \|@* *\|$/.exec(l);
    assert.ok(row, l);
    const low = Number(row[1]) * (row[2] === 'K' ? 1024 : row[2] === 'M' ? 1 << 20 : 1);
    // Two spinners sharing a CPU wait milliseconds for each other.
    if (low >= 1024) waitedLong += Number(row[5]);
  }
  assert.ok(waitedLong >= 10, r.stdout);
});

test('oomkill: the OOM killer\'s victim in a memory-limited cgroup', { skip: root }, async (t) => {
  const v1 = '/sys/fs/cgroup/memory';
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : existsSync('/sys/fs/cgroup/unified/cgroup.controllers') ? '/sys/fs/cgroup/unified' : undefined;
  const useV1 = existsSync(`${v1}/memory.limit_in_bytes`);
  const base = useV1 ? v1 : v2;
  if (!base) {
    t.skip('no memory cgroup controller to confine the OOM to');
    return;
  }
  const cg = `${base}/bpfkit-oomkill-${process.pid}`;
  mkdirSync(cg);
  try {
    if (useV1) writeFileSync(`${cg}/memory.limit_in_bytes`, String(32 << 20));
    else {
      writeFileSync(`${cg}/memory.max`, String(32 << 20));
      writeFileSync(`${cg}/memory.swap.max`, '0');
    }
    const w = await heldReady(toolWorkload(), ['alloc', '512']);
    writeFileSync(`${cg}/cgroup.procs`, String(w.pid));
    let code: number | null = 0;
    const r = await runTool('oomkill', [], {
      work: async () => {
        w.go();
        code = (await w.done).code;
      },
    });
    assert.equal(code, null, 'the workload was killed');
    assert.equal(r.lines[0], 'Tracing oom_kill_process()... Hit Ctrl-C to end.');
    const mine = r.lines.filter((l) => l.includes(`OOM kill of PID ${w.pid} `));
    assert.equal(mine.length, 1, r.stdout);
    assert.match(
      mine[0],
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d Triggered by PID ${w.pid} \\("${TOOL_WL_COMM}"\\), OOM kill of PID ${w.pid} \\("${TOOL_WL_COMM}"\\), \\d+ pages, loadavg: \\d+\\.\\d\\d \\d+\\.\\d\\d \\d+\\.\\d\\d \\d+/\\d+ \\d+$`),
    );
  } finally {
    rmdirSync(cg);
  }
});
