// tracefs on the running kernel: mounting it when absent, events, ids, and
// field listings byte for byte against `bpftrace -lv`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import {
  eventFormat, eventId, formatFieldForListing, listEvents, TracefsError, tracefsPath,
} from '../../src/probes/tracefs.js';
import { isRoot } from '../lib/fixtures.js';

const TRACING = '/sys/kernel/tracing';
const BPFTRACE = ['/usr/bin/bpftrace', '/usr/sbin/bpftrace'].find((p) => existsSync(p));

function tracefsMountCount(at: string): number {
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1] === at && l.split(' ')[2] === 'tracefs').length;
}

// This file mounts tracefs (that is what tracefsPath does); leave the machine as found.
const mountedAtStart = tracefsMountCount(TRACING);
after(() => {
  for (let n = tracefsMountCount(TRACING); n > mountedAtStart; n--) {
    // Busy (someone else started using it meanwhile): leaving it mounted is harmless.
    if (spawnSync('umount', [TRACING]).status !== 0) break;
  }
});

/** Processes with a file or cwd under `dir`: unmounting would pull it from under them. */
function usersOf(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const links: string[] = [];
    try {
      links.push(readlinkSync(`/proc/${pid}/cwd`));
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try { links.push(readlinkSync(`/proc/${pid}/fd/${fd}`)); } catch { /* closed meanwhile */ }
      }
    } catch {
      continue; // exited, or a kernel thread
    }
    if (links.some((l) => l === dir || l.startsWith(`${dir}/`))) out.push(pid);
  }
  return out;
}

function whyNotUnmount(): string | false {
  if (!isRoot()) return 'mounting tracefs needs root';
  if (!existsSync(TRACING)) return `${TRACING} does not exist`;
  if (mountedAtStart === 0) return false;
  const users = usersOf(TRACING);
  return users.length ? `processes ${users.join(', ')} use ${TRACING}` : false;
}

test('tracefsPath mounts tracefs when it is not mounted', { skip: whyNotUnmount() }, (t) => {
  for (let n = tracefsMountCount(TRACING); n > 0; n--) {
    const r = spawnSync('umount', [TRACING], { encoding: 'utf8' });
    if (r.status !== 0) { t.skip(`cannot unmount ${TRACING}: ${r.stderr.trim()}`); return; }
  }
  assert.equal(tracefsMountCount(TRACING), 0);
  assert.ok(!existsSync(`${TRACING}/events`));
  const path = tracefsPath();
  // With debugfs mounted the kernel offers tracefs at debug/tracing instead, which is as good.
  if (path === TRACING) assert.equal(tracefsMountCount(TRACING), 1);
  else assert.equal(tracefsMountCount(path), 1);
  assert.ok(existsSync(`${path}/events/sched/sched_switch/format`));
  // Mounted now: the same answer, and no second mount.
  assert.equal(tracefsPath(), path);
  assert.ok(tracefsMountCount(path) === 1);
  // Restore what the machine had: tracefs at /sys/kernel/tracing if it was there.
  if (mountedAtStart > 0 && tracefsMountCount(TRACING) === 0) execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACING]);
});

test('events are listed, with ids matching their id files', { skip: isRoot() ? false : 'tracefs needs root' }, () => {
  const root = tracefsPath();
  const events = listEvents();
  const keys = new Set(events.map((e) => `${e.category}:${e.name}`));
  for (const k of ['syscalls:sys_enter_openat', 'sched:sched_switch', 'sched:sched_process_exec']) assert.ok(keys.has(k), k);
  // Every event directory is listed and nothing else (ftrace's internal events are no tracepoints).
  let dirs = 0;
  for (const cat of readdirSync(`${root}/events`, { withFileTypes: true })) {
    if (!cat.isDirectory() || cat.name === 'ftrace') continue;
    for (const ev of readdirSync(`${root}/events/${cat.name}`, { withFileTypes: true })) if (ev.isDirectory()) dirs++;
  }
  assert.equal(keys.size, dirs);
  const id = eventId('sched', 'sched_switch');
  assert.equal(id, Number(readFileSync(`${root}/events/sched/sched_switch/id`, 'utf8')));
  assert.equal(eventFormat('sched', 'sched_switch').id, id);
});

test('missing events are named in the error', { skip: isRoot() ? false : 'tracefs needs root' }, () => {
  assert.throws(() => eventFormat('syscalls', 'sys_enter_foo'), (e: unknown) => e instanceof TracefsError && e.message === 'tracepoint not found: syscalls:sys_enter_foo');
  assert.throws(() => eventId('nosuchcat', 'x'), /^TracefsError: tracepoint not found: nosuchcat:x$/);
  assert.throws(() => eventId('..', 'sched'), /tracepoint not found: \.\.:sched/);
  assert.throws(() => eventFormat('sched/../sched', 'sched_switch'), /tracepoint not found/);
});

test('sys_enter_openat fields', { skip: isRoot() ? false : 'tracefs needs root' }, () => {
  const fmt = eventFormat('syscalls', 'sys_enter_openat');
  const fields = fmt.fields.filter((f) => !f.common);
  assert.deepEqual(fmt.fields.filter((f) => f.common).map((f) => f.name), ['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);
  // The syscall tracepoint ABI: the number at 8, then each argument in an 8-byte slot from 16.
  assert.deepEqual(fields.map((f) => [f.name, f.type, f.offset, f.size]), [
    ['__syscall_nr', 'int', 8, 4], ['dfd', 'int', 16, 8], ['filename', 'const char *', 24, 8], ['flags', 'int', 32, 8], ['mode', 'umode_t', 40, 8],
  ]);
  assert.match(fmt.printFmt, /^"dfd: 0x%08lx, filename: 0x%08lx/);
  const exec = eventFormat('sched', 'sched_process_exec').fields.find((f) => f.name === 'filename')!;
  assert.deepEqual([exec.dataLoc, exec.type, exec.size], [true, 'char[]', 4]);
});

/** bpftrace -lv output as event -> field lines. */
function bpftraceListing(pattern: string): Map<string, string[]> {
  const text = execFileSync(BPFTRACE!, ['-lv', pattern], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('tracepoint:')) { cur = []; out.set(line.slice('tracepoint:'.length), cur); }
    else if (line !== '') cur.push(line);
  }
  return out;
}

const noBpftrace = !isRoot() ? 'bpftrace -l needs root' : BPFTRACE ? false : 'bpftrace is not installed: nothing to compare against';

function ours(key: string): string[] {
  const [cat, name] = key.split(':');
  return eventFormat(cat, name).fields.filter((f) => !f.common).map(formatFieldForListing);
}

test('field lines equal bpftrace -lv for openat, sched_process_exec, sched_switch', { skip: noBpftrace }, () => {
  tracefsPath(); // bpftrace 0.17 does not mount tracefs itself
  for (const key of ['syscalls:sys_enter_openat', 'sched:sched_process_exec', 'sched:sched_switch']) {
    const want = bpftraceListing(`tracepoint:${key}`).get(key);
    assert.ok(want, `bpftrace does not list ${key}`);
    assert.deepEqual(ours(key), want);
  }
  assert.deepEqual(ours('syscalls:sys_enter_openat'), ['    int __syscall_nr', '    int dfd', '    const char * filename', '    int flags', '    umode_t mode']);
  assert.deepEqual(ours('sched:sched_process_exec'), ['    __data_loc char[] filename', '    pid_t pid', '    pid_t old_pid']);
  assert.equal(ours('sched:sched_switch')[0], '    char prev_comm[16]');
});

test('field lines equal bpftrace -lv for every tracepoint', { skip: noBpftrace }, () => {
  tracefsPath();
  const want = bpftraceListing('tracepoint:*');
  assert.ok(want.size > 100, `bpftrace listed only ${want.size} tracepoints`);
  const keys = new Set(listEvents().map((e) => `${e.category}:${e.name}`));
  assert.deepEqual([...want.keys()].sort(), [...keys].sort());
  for (const [key, lines] of want) assert.deepEqual(ours(key), lines, key);
});
