// The kprobe-based tools (src/tools) run as a user runs them, `bpfkit TOOL`,
// in the guest, around a workload (fixtures/kcalls.c) whose calls the test
// knows; each test checks the tool's header, its columns and the workload's
// own events. The tools trace the whole system, so counts are lower bounds
// where other processes (the test runner itself) make the same calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cols, heldReady, release, runTool, runWl } from '../kernel/tools-helpers.js';
import { guestModules, guestOnly, kernelFixture } from './guest-env.js';

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

/**
 * Loads a module of the guest kernel with its dependencies, unless loaded:
 * modprobe with -d pointed at the kernel package the runner unpacked (the
 * guest has no module tree of its own).
 */
function modprobe(name: string): void {
  if (existsSync(`/sys/module/${name.replace(/-/g, '_')}`)) return;
  assert.ok(guestModules, 'the runner passes BPFKIT_GUEST_MODULES');
  // .../root/lib/modules/VERSION -> .../root
  execFileSync('modprobe', ['-d', dirname(dirname(dirname(guestModules))), name], { stdio: 'inherit' });
}

function sh(cmd: string): string {
  return execFileSync('sh', ['-ec', cmd], { encoding: 'utf8' }).trim();
}

test('swapin: swap-ins of a process squeezed by its memory cgroup, per second with comm and pid', { skip: guestOnly, timeout: 180_000 }, async (t) => {
  // Swap on zram, and a cgroup whose limit is smaller than what the workload
  // touches: its pages go out to swap and come back in on the next round,
  // each through swap_readpage/swap_read_folio. (Not swap on a loop device
  // over a tmpfs file: loop charges the file's pages to the same cgroup, so
  // swapping out frees nothing and the workload gets OOM-killed.)
  modprobe('zram');
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) sh('mount -t cgroup2 none /sys/fs/cgroup');
  const dev = `/tmp/bpfkit-zram-${process.pid}`;
  const cg = `/sys/fs/cgroup/bpfkit_swap_${process.pid}`;
  t.after(() => {
    spawnSync('sh', ['-c', `swapoff ${dev}; echo 1 > /sys/block/zram0/reset; rm -f ${dev}; rmdir ${cg}`]);
  });
  // The guest's /dev is not devtmpfs: a node of our own.
  sh(`echo 96M > /sys/block/zram0/disksize && mknod ${dev} b $(tr : ' ' < /sys/block/zram0/dev) && mkswap -q ${dev} && swapon ${dev}`);
  sh(`grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || echo +memory > /sys/fs/cgroup/cgroup.subtree_control; mkdir -p ${cg}; echo 8M > ${cg}/memory.max`);
  let pid = 0;
  const r = await runTool('swapin', [], {
    // It prints a time line every second from the start.
    ready: /^\d\d:\d\d:\d\d$/m,
    timeoutMs: 150_000,
    settleMs: 1500,
    work: async () => {
      const w = await heldReady(kcalls(), ['touch', '24', '2']);
      pid = w.pid;
      writeFileSync(`${cg}/cgroup.procs`, String(w.pid));
      const done = await release(w);
      assert.equal(done.code, 0);
    },
  });
  assert.equal(r.code, 0, r.stderr);
  const times = r.lines.filter((l) => /^\d\d:\d\d:\d\d$/.test(l));
  assert.ok(times.length >= 1, `a time line each second:\n${r.stdout}`);
  const ours = r.lines.map((l) => /^@\[kcalls, (\d+)\]: (\d+)$/.exec(l)).filter((m) => m && Number(m[1]) === pid);
  const total = ours.reduce((a, m) => a + Number(m![2]), 0);
  process.stderr.write(`# swapin: ${total} swap-ins of pid ${pid} in ${ours.length} interval(s)\n`);
  // 24 MiB touched twice in 8 MiB: the second round reads most pages back.
  assert.ok(total >= 1000, `swap-ins of the workload: ${total}\n${r.stdout}`);
});

test('mdflush: a flush sent to an md (RAID1) array, with pid, comm and device', { skip: guestOnly, timeout: 150_000 }, async (t) => {
  // A one-disk RAID1 without metadata, built through md's sysfs (no mdadm
  // needed) on a loop device; fsync on the array sends md a flush.
  modprobe('loop');
  modprobe('md-mod');
  modprobe('raid1');
  const md = `md_bpfkit${process.pid % 1000}`;
  const img = `/tmp/bpfkit-md-${process.pid}.img`;
  const loop = sh(`truncate -s 32M ${img} && losetup -f --show ${img}`);
  const node = `/tmp/${md}`;
  t.after(() => {
    spawnSync('sh', ['-c', `echo clear > /sys/block/${md}/md/array_state; losetup -d ${loop}; rm -f ${img} ${node}`]);
  });
  const lo = loop.replace('/dev/', '');
  sh([
    `echo ${md} > /sys/module/md_mod/parameters/new_array`,
    `cd /sys/block/${md}/md`,
    'echo none > metadata_version', 'echo raid1 > level', 'echo 1 > raid_disks',
    `cat /sys/block/${lo}/dev > new_dev`, `echo 0 > dev-${lo}/slot`, `echo 32768 > dev-${lo}/size`,
    'echo 32768 > component_size', 'echo active > array_state',
    // The guest's /dev is not devtmpfs: a node of our own.
    `mknod ${node} b $(tr : ' ' < /sys/block/${md}/dev)`,
  ].join('\n'));
  let pid = 0;
  const r = await runTool('mdflush', [], {
    ready: /DEVICE\n/,
    timeoutMs: 120_000,
    work: async () => {
      const w = await runWl(kcalls(), ['fsync', node]);
      assert.equal(w.code, 0);
      pid = w.pid;
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'Tracing md flush events... Hit Ctrl-C to end.');
  assert.deepEqual(cols(r.lines[1]), ['TIME', 'PID', 'COMM', 'DEVICE']);
  const ours = r.lines.slice(2).map(cols).filter((c) => c[1] === String(pid));
  assert.ok(ours.length >= 1, `a flush by pid ${pid}:\n${r.stdout}`);
  for (const c of ours) {
    assert.match(c[0], /^\d\d:\d\d:\d\d$/);
    assert.deepEqual(c.slice(2), ['kcalls', md]);
  }
});

const noMkfsXfs = spawnSync('sh', ['-c', 'command -v mkfs.xfs'], { stdio: 'ignore' }).status !== 0
  && 'needs mkfs.xfs (Debian package xfsprogs; .ci/run installs it) to make an XFS filesystem';

test('xfsdist: latency histograms of XFS read/write/open/fsync, with the workload\'s calls counted', { skip: guestOnly || noMkfsXfs, timeout: 180_000 }, async (t) => {
  modprobe('loop');
  modprobe('xfs');
  const img = `/tmp/bpfkit-xfs-${process.pid}.img`;
  const mnt = `/tmp/bpfkit-xfs-${process.pid}`;
  // 320 MiB: mkfs.xfs refuses filesystems under 300 MiB; the tmpfs file stays sparse.
  const loop = sh(`truncate -s 320M ${img} && losetup -f --show ${img}`);
  t.after(() => {
    spawnSync('sh', ['-c', `umount ${mnt}; losetup -d ${loop}; rm -rf ${img} ${mnt}`]);
  });
  sh(`mkfs.xfs -q -f ${loop} && mkdir -p ${mnt} && mount -t xfs ${loop} ${mnt} && head -c 65536 /dev/zero > ${mnt}/f`);
  const READS = 16;
  const r = await runTool('xfsdist', [], {
    ready: /Hit Ctrl-C to end/,
    timeoutMs: 150_000,
    work: async () => {
      const w = await runWl(kcalls(), ['read', `${mnt}/f`, '4096', String(READS), 'fsync', `${mnt}/f`]);
      assert.equal(w.code, 0);
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], 'Tracing XFS operation latency... Hit Ctrl-C to end.');
  // @us[OP]: then hist lines "[lo, hi)   count |@@@|"; a blank line after each map.
  const totals = new Map<string, number>();
  let op = '';
  for (const l of r.lines.slice(1)) {
    const head = /^@us\[(\w+)\]:\s*$/.exec(l);
    if (head) {
      op = head[1];
      totals.set(op, 0);
      continue;
    }
    const b = /^\[[^\]]*[\])]\s+(\d+) \|[@ ]*\|$/.exec(l);
    if (b && op) totals.set(op, totals.get(op)! + Number(b[1]));
  }
  process.stderr.write(`# xfsdist: ${[...totals].map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  // Nothing else uses this new filesystem: the counts are the workload's, exactly.
  assert.deepEqual(Object.fromEntries(totals), { xfs_file_read_iter: READS, xfs_file_open: 2, xfs_file_write_iter: 1, xfs_file_fsync: 1 }, r.stdout);
});
