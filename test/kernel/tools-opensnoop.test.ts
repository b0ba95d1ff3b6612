// bpfkit opensnoop against opens the test makes: existing and missing files,
// creat() with a mode, openat2(), relative names; every option of BCC's
// opensnoop. Workloads are started (held) before the tool, so their
// loader's own opens are not part of the output and each line is known.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/fixtures.js';
import { bpfkit, cols, heldReady as held, release, runTool, toolWorkload, workload } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const HEADER = 'PID    COMM               FD ERR PATH';
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-opensnoop-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'sub', 'file'), 'x');

/** BCC's "%-6d %-16s %4d %3d %s". */
function line(pid: number, comm: string, fd: number, err: number, path: string): string {
  return `${String(pid).padEnd(6)} ${comm.padEnd(16)} ${String(fd).padStart(4)} ${String(err).padStart(3)} ${path}`;
}

const OPENS = ['open', '/etc/hostname', '1', 'open', '/nonexistent/bpfkit', '1'];

test('opensnoop: header and one line per open, failed ones with their errno', { skip: root }, async () => {
  const w = await held(workload(), OPENS);
  const r = await runTool('opensnoop', [], { work: () => release(w) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], HEADER);
  assert.deepEqual(r.lines.filter((l) => cols(l)[0] === String(w.pid)), [
    line(w.pid, 'bpfkit_wl', 3, 0, '/etc/hostname'),
    line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit'),
  ]);
});

test('opensnoop -x: failed opens only', { skip: root }, async () => {
  const w = await held(workload(), OPENS);
  const r = await runTool('opensnoop', ['-x'], { work: () => release(w) });
  assert.equal(r.lines[0], HEADER);
  assert.deepEqual(r.lines.filter((l) => cols(l)[0] === String(w.pid)), [line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit')]);
  // Other processes' lines too are failures only (a comm may hold spaces, so match the FD column by shape).
  for (const l of r.lines.slice(1)) assert.match(l, /^\d+ +.+? +-1 +\d+ /, l);
});

test('opensnoop -p PID: that process only', { skip: root }, async () => {
  const w = await held(workload(), OPENS);
  const r = await runTool('opensnoop', ['-p', String(w.pid)], { work: () => release(w) });
  assert.deepEqual(r.lines, [HEADER, line(w.pid, 'bpfkit_wl', 3, 0, '/etc/hostname'), line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit')]);
});

test('opensnoop -t TID: that thread only, in a TID column', { skip: root }, async () => {
  const w = await held(workload(), OPENS);
  const r = await runTool('opensnoop', ['-t', String(w.pid)], { work: () => release(w) });
  assert.deepEqual(r.lines, [
    'TID    COMM               FD ERR PATH',
    line(w.pid, 'bpfkit_wl', 3, 0, '/etc/hostname'),
    line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit'),
  ]);
});

test('opensnoop -u UID -U: that user only, with a UID column', { skip: root }, async () => {
  const w = await held(workload(), OPENS, { uid: 65534, gid: 65534 });
  const r = await runTool('opensnoop', ['-u', '65534', '-U'], { work: () => release(w) });
  assert.equal(r.lines[0], `UID   ${HEADER}`);
  assert.deepEqual(r.lines.filter((l) => cols(l)[1] === String(w.pid)), [
    `65534 ${line(w.pid, 'bpfkit_wl', 3, 0, '/etc/hostname')}`,
    `65534 ${line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit')}`,
  ]);
  for (const l of r.lines.slice(1)) assert.equal(cols(l)[0], '65534');
});

test('opensnoop -n NAME: process names containing NAME', { skip: root }, async () => {
  const a = await held(workload(), OPENS);
  const b = await held(toolWorkload(), ['openat2', '/etc/hostname']);
  const r = await runTool('opensnoop', ['-n', 'kit_w'], { work: () => Promise.all([release(a), release(b)]) });
  assert.equal(r.lines[0], HEADER);
  assert.equal(r.lines.filter((l) => cols(l)[0] === String(a.pid)).length, 2, r.stdout);
  assert.deepEqual(r.lines.filter((l) => cols(l)[0] === String(b.pid)), []);
  for (const l of r.lines.slice(1)) assert.match(cols(l)[1], /kit_w/);
});

test('opensnoop -e: FLAGS and MODE columns, for open, openat and openat2', { skip: root }, async () => {
  const created = join(dir, 'created');
  const w = await held(toolWorkload(), ['creat', created, '640', 'openat2', '/etc/hostname']);
  const r = await runTool('opensnoop', ['-e', '-p', String(w.pid)], { work: () => release(w) });
  assert.deepEqual(r.lines, [
    'PID    COMM               FD ERR FLAGS    MODE PATH',
    `${line(w.pid, 'bpfkit_tl', 3, 0, '').slice(0, -1)} 00001101 0640 ${created}`,
    `${line(w.pid, 'bpfkit_tl', 3, 0, '').slice(0, -1)} 00000000 0000 /etc/hostname`,
  ]);
});

test('opensnoop -f FLAG: opens with that flag only', { skip: root }, async () => {
  const created = join(dir, 'flagged');
  const w = await held(toolWorkload(), ['creat', created, '600', 'openat2', '/etc/hostname']);
  const r = await runTool('opensnoop', ['-f', 'O_WRONLY', '-f', 'O_RDWR', '-p', String(w.pid)], { work: () => release(w) });
  assert.deepEqual(r.lines, [HEADER, line(w.pid, 'bpfkit_tl', 3, 0, created)]);
  const bad = bpfkit(['opensnoop', '-f', 'WRONLY', '--program']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Bad flag: WRONLY/);
});

test('opensnoop -F: relative names get the working directory, across mount points', { skip: root }, async () => {
  const w = await held(toolWorkload(), ['openrel', join(dir, 'sub'), 'file', 'openrel', '/sys/kernel', 'tracing', 'openrel', '/', 'etc/hostname']);
  const r = await runTool('opensnoop', ['-F', '-p', String(w.pid)], { work: () => release(w) });
  assert.deepEqual(r.lines, [
    HEADER,
    line(w.pid, 'bpfkit_tl', 3, 0, join(dir, 'sub', 'file')),
    line(w.pid, 'bpfkit_tl', 3, 0, '/sys/kernel/tracing'),
    line(w.pid, 'bpfkit_tl', 3, 0, '/etc/hostname'),
  ]);
});

test('opensnoop -T: seconds since the first event, BCC\'s "%-14.9f"', { skip: root }, async () => {
  const w = await held(workload(), OPENS);
  const r = await runTool('opensnoop', ['-T', '-p', String(w.pid)], { work: () => release(w) });
  assert.equal(r.lines[0], `TIME(s)       ${HEADER}`);
  assert.equal(r.lines.length, 3, r.stdout);
  assert.equal(r.lines[1].slice(0, 14), '0.000000000   ');
  assert.equal(r.lines[1].slice(14), line(w.pid, 'bpfkit_wl', 3, 0, '/etc/hostname'));
  assert.match(r.lines[2], /^0\.\d{9} {3}/);
  assert.equal(r.lines[2].slice(14), line(w.pid, 'bpfkit_wl', -1, 2, '/nonexistent/bpfkit'));
});

test('opensnoop -d SECONDS: stops by itself', { skip: root }, async () => {
  const t0 = Date.now();
  const r = await runTool('opensnoop', ['-d', '1', '-p', '1'], { interrupt: false, timeoutMs: 15000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.equal(r.lines[0], HEADER);
  assert.ok(Date.now() - t0 >= 1000);
});


