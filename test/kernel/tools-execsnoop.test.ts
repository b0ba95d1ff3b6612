// bpfkit execsnoop against execs the test makes: a workload forks and execs
// programs with known arguments (and a path that does not exist), and each
// option of BCC's execsnoop is checked on the lines for those execs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/fixtures.js';
import { bpfkit, cols, runTool, runWl, startHeld, workload } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const HEADER = 'PCOMM            PID     PPID    RET ARGS';

/** BCC's "%-16s %-7d %-7s %3d %s". */
function line(comm: string, pid: number | string, ppid: number | string, ret: number, args: string): string {
  return `${comm.padEnd(16)} ${String(pid).padEnd(7)} ${String(ppid).padEnd(7)} ${String(ret).padStart(3)} ${args}`;
}

/** Lines whose PPID column (after `skip` leading columns) is `ppid`, with each line's own PID put in. */
function childrenOf(lines: string[], ppid: number, skip = 0): { pid: number; text: string }[] {
  return lines.filter((l) => cols(l)[skip + 2] === String(ppid)).map((l) => ({ pid: Number(cols(l)[skip + 1]), text: l }));
}

test('execsnoop: header, one line per successful exec with its arguments, failed execs hidden', { skip: root }, async () => {
  let ok = 0;
  let bad = 0;
  const r = await runTool('execsnoop', [], {
    work: async () => {
      ok = (await runWl(workload(), ['exec', '/bin/echo', 'hello', 'big world'])).pid;
      bad = (await runWl(workload(), ['exec', '/nonexistent/x', 'a'])).pid;
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines[0], HEADER);
  const echo = childrenOf(r.lines, ok);
  assert.equal(echo.length, 1, r.stdout);
  assert.equal(echo[0].text, line('echo', echo[0].pid, ok, 0, '/bin/echo hello big world'));
  assert.deepEqual(childrenOf(r.lines, bad), []);
  // The workload's own exec (by this test's node process) is there too, under its new comm.
  const self = r.lines.filter((l) => cols(l)[1] === String(ok));
  assert.deepEqual(self, [line('bpfkit_wl', ok, process.pid, 0, `${workload()} exec /bin/echo hello big world`)]);
});

test('execsnoop -x: failed execs too, with the error and the old comm', { skip: root }, async () => {
  let bad = 0;
  const r = await runTool('execsnoop', ['-x'], {
    work: async () => {
      bad = (await runWl(workload(), ['exec', '/nonexistent/x', 'a'])).pid;
    },
  });
  assert.equal(r.lines[0], HEADER);
  const fail = childrenOf(r.lines, bad);
  assert.equal(fail.length, 1, r.stdout);
  assert.equal(fail[0].text, line('bpfkit_wl', fail[0].pid, bad, -2, '/nonexistent/x a'));
});

test('execsnoop -T -t -U: time, timestamp and UID columns', { skip: root }, async () => {
  let ok = 0;
  const r = await runTool('execsnoop', ['-T', '-t', '-U'], {
    work: async () => {
      ok = (await runWl(workload(), ['exec', '/bin/true', 'x'])).pid;
    },
  });
  assert.equal(r.lines[0], `TIME     TIME(s) UID   ${HEADER}`);
  const l = childrenOf(r.lines, ok, 3);
  assert.equal(l.length, 1, r.stdout);
  const m = /^(\d\d:\d\d:\d\d) (\d+\.\d{3} *)(0 {5})(.*)$/.exec(l[0].text);
  assert.ok(m, l[0].text);
  assert.equal(m[2].length, 8, 'TIME(s) is %-8.3f');
  assert.ok(Number(m[2]) > 0 && Number(m[2]) < 30, m[2]);
  assert.equal(m[4], line('true', l[0].pid, ok, 0, '/bin/true x'));
});

test('execsnoop -q: arguments in quotes', { skip: root }, async () => {
  let ok = 0;
  const r = await runTool('execsnoop', ['-q'], {
    work: async () => {
      ok = (await runWl(workload(), ['exec', '/bin/echo', 'a b', ''])).pid;
    },
  });
  const l = childrenOf(r.lines, ok);
  assert.equal(l.length, 1, r.stdout);
  assert.equal(l[0].text, line('echo', l[0].pid, ok, 0, '"/bin/echo" "a b" ""'));
});

test('execsnoop -n NAME: only commands whose name contains NAME', { skip: root }, async () => {
  let a = 0;
  let b = 0;
  const r = await runTool('execsnoop', ['-n', 'ech'], {
    work: async () => {
      a = (await runWl(workload(), ['exec', '/bin/echo', 'one'])).pid;
      b = (await runWl(workload(), ['exec', '/bin/true', 'two'])).pid;
    },
  });
  assert.equal(r.lines[0], HEADER);
  const echo = childrenOf(r.lines, a);
  assert.equal(echo.length, 1, r.stdout);
  assert.equal(echo[0].text, line('echo', echo[0].pid, a, 0, '/bin/echo one'));
  assert.deepEqual(childrenOf(r.lines, b), []);
  for (const l of r.lines.slice(1)) assert.match(cols(l)[0], /ech/);
});

test('execsnoop -l LINE: only commands with an argument containing LINE', { skip: root }, async () => {
  let a = 0;
  let b = 0;
  const r = await runTool('execsnoop', ['-l', 'needle'], {
    work: async () => {
      a = (await runWl(workload(), ['exec', '/bin/echo', 'hayneedlehay'])).pid;
      b = (await runWl(workload(), ['exec', '/bin/echo', 'hay'])).pid;
    },
  });
  const hit = childrenOf(r.lines, a);
  assert.equal(hit.length, 1, r.stdout);
  assert.equal(hit[0].text, line('echo', hit[0].pid, a, 0, '/bin/echo hayneedlehay'));
  assert.deepEqual(childrenOf(r.lines, b), []);
  for (const l of r.lines.slice(1)) assert.match(l, /needle/);
});

test('execsnoop --max-args: the list is cut with "..."', { skip: root }, async () => {
  let a = 0;
  let b = 0;
  const r = await runTool('execsnoop', ['--max-args', '3'], {
    work: async () => {
      a = (await runWl(workload(), ['exec', '/bin/echo', '1', '2', '3', '4'])).pid;
      b = (await runWl(workload(), ['exec', '/bin/echo', '1', '2'])).pid;
    },
  });
  const cut = childrenOf(r.lines, a);
  assert.equal(cut.length, 1, r.stdout);
  assert.equal(cut[0].text, line('echo', cut[0].pid, a, 0, '/bin/echo 1 2 ...'));
  const whole = childrenOf(r.lines, b);
  assert.equal(whole[0]?.text, line('echo', whole[0]?.pid, b, 0, '/bin/echo 1 2'));
});

test('execsnoop -P PPID: only children of that parent', { skip: root }, async () => {
  const parent = startHeld(workload(), ['exec', '/bin/echo', 'from', 'parent']);
  const r = await runTool('execsnoop', ['-P', String(parent.pid)], {
    work: async () => {
      parent.go();
      await parent.done;
    },
  });
  assert.equal(r.lines.length, 2, r.stdout);
  assert.equal(r.lines[0], HEADER);
  const pid = Number(cols(r.lines[1])[1]);
  assert.equal(r.lines[1], line('echo', pid, parent.pid, 0, '/bin/echo from parent'));
});

test('execsnoop -u USER: only that uid, by name or number', { skip: root }, async () => {
  for (const who of ['nobody', '65534']) {
    const parent = startHeld(workload(), ['exec', '/bin/echo', 'as', who], { uid: 65534, gid: 65534 });
    const r = await runTool('execsnoop', ['-u', who, '-U'], {
      work: async () => {
        parent.go();
        await parent.done;
      },
    });
    assert.equal(r.lines[0], `UID   ${HEADER}`);
    const l = childrenOf(r.lines, parent.pid, 1);
    assert.equal(l.length, 1, r.stdout);
    assert.equal(l[0].text, `65534 ${line('echo', l[0].pid, parent.pid, 0, `/bin/echo as ${who}`)}`);
    for (const x of r.lines.slice(1)) assert.equal(cols(x)[0], '65534');
  }
});

test('execsnoop -h and --program, and bad options', () => {
  const h = bpfkit(['execsnoop', '-h']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^usage: bpfkit execsnoop \[-h\] \[-T\] \[-t\] \[-x\]/);
  assert.match(h.stdout, /\nexamples:\n {4}bpfkit execsnoop +# trace all exec\(\) syscalls\n/);
  const p = bpfkit(['execsnoop', '--program', '-x', '-P', '42']);
  assert.equal(p.code, 0);
  assert.match(p.stdout, /tracepoint:syscalls:sys_enter_execve,\ntracepoint:syscalls:sys_enter_execveat\n\/curtask->real_parent->tgid == 42\//);
  assert.doesNotMatch(p.stdout, /\$ret == 0/);
  const bad = bpfkit(['execsnoop', '--max-args', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: argument --max-args: invalid int value: 'x'/);
  const unknown = bpfkit(['execsnoop', '-Z']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error: unrecognized arguments: -Z/);
});
