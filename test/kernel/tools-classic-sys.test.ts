// The classic tools built on system call tracepoints (and capable, undump,
// threadsnoop), each against a workload whose calls the test knows: the
// header and the workload's lines are checked exactly, times by pattern.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/fixtures.js';
import { cols, heldReady, release, runTool, runWl, toolWorkload, workload, TOOL_WL_COMM } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-classic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TIME = '\\d\\d:\\d\\d:\\d\\d';
const pad = (v: unknown, n: number) => String(v).padEnd(n);
const lpad = (v: unknown, n: number) => String(v).padStart(n);

/** Lines that match `re`, with the time prefix (if the tool has one) checked and cut off. */
function timed(lines: string[], re: RegExp, sep = '  '): string[] {
  return lines.filter((l) => re.test(l)).map((l) => {
    assert.match(l, new RegExp(`^${TIME}${sep}`));
    return l.slice(8 + sep.length);
  });
}

test('killsnoop: kill() calls with signal, target and result', { skip: root }, async () => {
  const target = await heldReady(workload(), []);
  const w = await heldReady(toolWorkload(), ['kill', String(target.pid), '0', 'kill', '4000000', '9']);
  const r = await runTool('killsnoop', [], { work: () => release(w) });
  await release(target);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing kill() signals... Hit Ctrl-C to end.', 'TIME      PID    COMM             SIG  TPID   RESULT']);
  assert.deepEqual(timed(r.lines, new RegExp(` ${w.pid} +${TOOL_WL_COMM} `)), [
    `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} ${pad(0, 4)} ${pad(target.pid, 6)} 0`,
    `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} ${pad(9, 4)} ${pad(4000000, 6)} -3`,
  ]);
});

test('naptime: nanosleep() and clock_nanosleep() with the sleeper\'s parent', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['nanosleep', '0', '250000000', 'usleep', '300000']);
  const r = await runTool('naptime', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing sleeps. Hit Ctrl-C to end.', 'TIME     PPID   PCOMM            PID    COMM             SECONDS']);
  const parent = readFileSync('/proc/self/comm', 'utf8').trim();
  assert.deepEqual(timed(r.lines, new RegExp(` ${w.pid} +${TOOL_WL_COMM} `), ' '), [
    `${pad(process.pid, 6)} ${pad(parent, 16)} ${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} 0.250`,
    `${pad(process.pid, 6)} ${pad(parent, 16)} ${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} 0.300`,
  ]);
});

test('setuids: setuid(), setresuid(), setfsuid() with their arguments and results', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['setuid', '0', 'setresuid', '0', '0', '0', 'setfsuid', '0']);
  const r = await runTool('setuids', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing setuid(2) family syscalls. Hit Ctrl-C to end.', 'TIME     PID    COMM             UID    SYSCALL   ARGS (RET)']);
  const who = `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} ${pad(0, 6)}`;
  assert.deepEqual(timed(r.lines, new RegExp(` ${w.pid} +${TOOL_WL_COMM} `), ' '), [
    `${who} setuid    uid=0 (0)`,
    `${who} setresuid ruid=0 euid=0 suid=0 (0)`,
    `${who} setfsuid  uid=0 (prevuid=0)`,
  ]);
});

test('statsnoop: stat()-family calls, found and missing', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['stat', '/etc/hostname', 'stat', '/nonexistent/bpfkit', 'lstat', '/etc/hostname', 'statfs', '/', 'statx', '/etc/passwd']);
  const r = await runTool('statsnoop', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing stat syscalls... Hit Ctrl-C to end.', 'PID    COMM             ERR PATH']);
  const line = (err: number, path: string) => `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} ${lpad(err, 3)} ${path}`;
  assert.deepEqual(r.lines.filter((l) => cols(l)[0] === String(w.pid)), [
    line(0, '/etc/hostname'), line(2, '/nonexistent/bpfkit'), line(0, '/etc/hostname'), line(0, '/'), line(0, '/etc/passwd'),
  ]);
});

test('syncsnoop: each sync()-family call, named by its probe', { skip: root }, async () => {
  const f = join(dir, 'synced');
  const w = await heldReady(toolWorkload(), ['sync', 'syncfs', f, 'fsync', f, 'fdatasync', f, 'sfr', f, 'msync', f]);
  const r = await runTool('syncsnoop', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing sync syscalls... Hit Ctrl-C to end.', 'TIME      PID    COMM             EVENT']);
  assert.deepEqual(
    timed(r.lines, new RegExp(` ${w.pid} +${TOOL_WL_COMM} `)),
    ['sync', 'syncfs', 'fsync', 'fdatasync', 'sync_file_range', 'msync'].map((c) => `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} tracepoint:syscalls:sys_enter_${c}`),
  );
});

test('syscount: the top 10 syscalls and processes at the end', { skip: root }, async () => {
  const N = 200000;
  const r = await runTool('syscount', [], { work: () => runWl(workload(), ['getppid', String(N)]) });
  assert.equal(r.lines[0], 'Counting syscalls... Hit Ctrl-C to end.');
  const top = /\nTop 10 syscalls IDs:\n((?:@syscall\[\d+\]: \d+\n){1,10})\nTop 10 processes:\n((?:@process\[.*\]: \d+\n){1,10})/.exec(r.stdout);
  assert.ok(top, r.stdout);
  const getppid = /@syscall\[110\]: (\d+)/.exec(top[1]);
  assert.ok(getppid && Number(getppid[1]) >= N, top[1]);
  const proc = /@process\[bpfkit_wl\]: (\d+)/.exec(top[2]);
  assert.ok(proc && Number(proc[1]) >= N, top[2]);
});

test('vfsstat: per-second counts of the VFS calls behind the syscalls', { skip: root }, async () => {
  const N = 3000;
  const r = await runTool('vfsstat', [], { work: () => runWl(workload(), ['write', String(N), '16']), settleMs: 1500 });
  assert.equal(r.lines[0], 'Tracing key VFS calls... Hit Ctrl-C to end.');
  let writes = 0;
  for (const l of r.lines.slice(1)) {
    if (l === '') continue;
    assert.match(l, /^(\d\d:\d\d:\d\d|@\[vfs_(read|readv|write|writev|fsync|open|create)\]: \d+)$/);
    const m = /^@\[vfs_write\]: (\d+)$/.exec(l);
    if (m) writes += Number(m[1]);
  }
  assert.ok(writes >= N, r.stdout);
});

test('pidpersec: forks per second', { skip: root }, async () => {
  const N = 40;
  const r = await runTool('pidpersec', [], { work: () => runWl(toolWorkload(), ['fork', String(N)]), settleMs: 1500 });
  assert.equal(r.lines[0], 'Tracing new processes... Hit Ctrl-C to end.');
  let forks = 0;
  for (const l of r.lines.slice(1)) {
    const m = /^\d\d:\d\d:\d\d PIDs\/sec: @: (\d+)$/.exec(l);
    if (m) forks += Number(m[1]);
  }
  assert.ok(forks >= N, r.stdout);
});

test('capable: capability checks with the capability\'s name', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['setuid', '0']);
  const r = await runTool('capable', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), [
    'Tracing cap_capable syscalls... Hit Ctrl-C to end.',
    'TIME      UID    PID    COMM             CAP  NAME                 AUDIT',
  ]);
  const mine = timed(r.lines, new RegExp(` ${w.pid} +${TOOL_WL_COMM} `));
  assert.ok(mine.includes(`${pad(0, 6)} ${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} ${pad(7, 4)} ${pad('CAP_SETUID', 20)} ?`), mine.join('\n'));
});

test('undump: data read from a UNIX stream socket', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['unix', 'hello from bpfkit']);
  const r = await runTool('undump', [], { work: () => release(w), viaFile: true });
  assert.deepEqual(r.lines.slice(0, 2), ['Dump UNIX socket packages RX. Ctrl-C to end', 'TIME     COMM             PID      SIZE     DATA']);
  assert.deepEqual(timed(r.lines, new RegExp(` ${TOOL_WL_COMM} +${w.pid} `), ' '), [`${pad(TOOL_WL_COMM, 16)} ${pad(w.pid, 8)} ${pad(17, 8)} hello from bpfkit`]);
});

test('threadsnoop: pthread_create() with the thread\'s start function', { skip: root }, async () => {
  // The workload stays a moment after its threads, so their start function can be symbolized.
  const w = await heldReady(toolWorkload(), ['threads', '2', 'usleep', '2000000']);
  const r = await runTool('threadsnoop', [], { work: () => release(w) });
  assert.equal(r.lines[0], 'TIME(ms)   PID    COMM             FUNC');
  const mine = r.lines.filter((l) => cols(l)[1] === String(w.pid));
  assert.equal(mine.length, 2, r.stdout);
  for (const l of mine) assert.match(l, new RegExp(`^\\d+ +${w.pid} +${TOOL_WL_COMM} +bpfkit_thread_fn$`));
  for (const l of mine) assert.equal(l.slice(11), `${pad(w.pid, 6)} ${pad(TOOL_WL_COMM, 16)} bpfkit_thread_fn`);
});
