// The process options and listing through the CLI: -c holds the command until
// every probe is attached, splits it without a shell and ends with it; -p
// filters events and resolves uprobes in the process and ends with it;
// uprobe arguments and return values print exactly; -l/-lv print what
// bpftrace 0.17 prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';
import { haveBpftrace, parseMaps, runCli, startProcess, stkChain } from './issue5-lib.js';

const root = !isRoot() && 'needs root';
const noBpftrace = !haveBpftrace() && 'bpftrace is not installed to compare with';

test('-c: a command that makes its calls at once is held until attached: every call is counted', { skip: root }, async () => {
  const bin = stkChain(false);
  for (const n of [1, 1000]) {
    const r = await runCli(['-e', 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }', '-c', `${bin} now ${n}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Attaching 1 probe...\n\n\n@: ${n}\n`);
  }
});

test('-c: cpid is the command\'s pid; quoted words are single arguments, without a shell', { skip: root }, async () => {
  const bin = stkChain(false);
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-c-'));
  try {
    const file = join(dir, 'argv');
    const program = 'BEGIN { printf("cpid %d\\n", cpid); } tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("event %d %s\\n", pid, comm); }';
    const r = await runCli(['-e', program, '-c', `${bin} argv ${file} 'a b' c "d e" f\\ g '' "it's" $HOME`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(file, 'utf8').split('\n');
    const pid = Number(/^pid (\d+)$/.exec(lines[0])![1]);
    assert.deepEqual(lines.slice(1), ['a b', 'c', 'd e', 'f g', '', "it's", '$HOME', '']);
    assert.equal(r.stdout, `Attaching 2 probes...\ncpid ${pid}\nevent ${pid} stk_chain_nopie\n\n\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-c: shell syntax is passed to the command as words, never run', { skip: root }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-c-'));
  try {
    const f = (n: number) => join(dir, `x${n}`);
    const cmd = `/bin/echo hi; touch ${f(1)} $(touch ${f(2)}) \`touch ${f(3)}\` | touch ${f(4)} && touch ${f(5)} > ${f(6)}`;
    const r = await runCli(['-e', 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }', '-c', cmd]);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 1; i <= 6; i++) assert.equal(existsSync(f(i)), false, `${f(i)} was created`);
    // echo got every word: the command's output goes to bpfkit's stdout.
    assert.ok(r.stdout.includes(`hi; touch ${f(1)} $(touch ${f(2)}) \`touch ${f(3)}\` | touch ${f(4)} && touch ${f(5)} > ${f(6)}\n`), r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-c: bpfkit ends when the command exits, also with a BEGIN-only program', { skip: root }, async () => {
  const bin = stkChain(false);
  const r = await runCli(['-e', 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }', '-c', `${bin} now 3 700`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^@: 3$/m);
  assert.ok(r.ms >= 650 && r.ms < 10000, `ran ${r.ms} ms for a 700 ms command`);
  // Nothing to wait for but the command: it still runs to its end, as in bpftrace.
  const b = await runCli(['-e', 'BEGIN { printf("hi\\n"); } END { printf("bye\\n"); }', '-c', '/bin/sleep 1']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, 'Attaching 2 probes...\nhi\nbye\n\n\n');
  assert.ok(b.ms >= 950 && b.ms < 10000, `ran ${b.ms} ms for sleep 1`);
});

test('-c: the banner and BEGIN\'s output come before the command\'s own output', { skip: root }, async () => {
  const r = await runCli(['-e', 'BEGIN { printf("begin\\n"); } tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }', '-c', '/bin/echo from-the-command']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Attaching 2 probes\.\.\.\nbegin\nfrom-the-command\n/);
});

test('-c: a command that cannot run, or a program that does not compile, fails at once and runs nothing', { skip: root }, async () => {
  for (const cmd of ['/no/such/cmd a', 'no-such-command-anywhere', '/etc/passwd']) {
    const r = await runCli(['-e', 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }', '-c', cmd], { timeoutMs: 10000 });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `ERROR: Failed to fork child: path '${cmd.split(' ')[0]}' does not exist or is not executable\n`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-c-'));
  try {
    const marker = join(dir, 'ran');
    const r = await runCli(['-e', 'tracepoint:syscalls:sys_enter_getppid { @ = nosuch(); }', '-c', `/usr/bin/touch ${marker}`], { timeoutMs: 10000 });
    assert.equal(r.code, 1, 'bpfkit ends by itself');
    assert.match(r.stderr, /Unknown function: nosuch/);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(existsSync(marker), false, 'the held command never ran');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-p: a pid that does not exist is an error', () => {
  // Pids stay below /proc/sys/kernel/pid_max (at most 2^22).
  const r = cli(['-p', '99999999', '-e', 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ERROR: pid 99999999: No such process\n');
});

test('-p: events, uprobes in the binary and in libc count only that process; bpfkit ends when it exits', { skip: root }, async () => {
  const bin = stkChain(false);
  const target = await startProcess(bin, ['slow', '20']);
  // The same binary doing the same calls: only the pid keeps it out.
  const other = await startProcess(bin, ['slow', '20']);
  try {
    const program = `tracepoint:syscalls:sys_enter_getppid { @g[pid] = count(); }
      uprobe:libc:nanosleep { @n[pid] = count(); }
      uprobe:${bin}:level3 { @l[pid, arg0, arg1] = count(); }`;
    let killedAt = 0;
    const r = await runCli(['-p', String(target.pid), '-e', program], {
      onStdout: (all) => {
        if (!killedAt && /Attaching/.test(all)) {
          killedAt = -1;
          setTimeout(() => {
            killedAt = performance.now();
            void target.stop();
          }, 1000);
        }
      },
    });
    const ended = performance.now();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Attaching 3 probes\.\.\.$/m);
    assert.ok(killedAt > 0 && ended - killedAt < 5000, `ended ${ended - killedAt} ms after the process was killed`);
    const maps = parseMaps(r.stdout);
    const keys = (m: string) => maps.filter((e) => e.map === m).map((e) => e.key);
    const val = (m: string) => maps.find((e) => e.map === m)?.value ?? 0;
    assert.deepEqual(keys('@g'), [String(target.pid)]);
    assert.deepEqual(keys('@n'), [String(target.pid)]);
    assert.deepEqual(keys('@l'), [`${target.pid}, 1, 20`]);
    // About 50 rounds in the second, each making one of each call; the probes
    // attach one after another, so the counts may differ by a few rounds.
    assert.ok(val('@g') >= 10, r.stdout);
    for (const m of ['@n', '@l']) assert.ok(Math.abs(val(m) - val('@g')) <= 5, r.stdout);
  } finally {
    await target.stop();
    await other.stop();
  }
});

test('uprobe arguments and uretprobe return values print exactly, as bpftrace prints them (-c)', { skip: root }, async (t) => {
  const bin = stkChain(true);
  const program = `uprobe:${bin}:mix { printf("%d %d %d\\n", arg0, arg1, arg2); } uretprobe:${bin}:mix { printf("= %d\\n", retval); }`;
  const r = await runCli(['-e', program, '-c', `${bin} calls 5`]);
  assert.equal(r.code, 0, r.stderr);
  const want = ['Attaching 2 probes...', ...[0, 1, 2, 3, 4].flatMap((i) => [`${i} ${-i} 7`, `= ${90 * i - 7}`])].join('\n') + '\n\n\n';
  assert.equal(r.stdout, want);
  if (noBpftrace) return t.skip(noBpftrace);
  const ref = await runCli(['-e', program, '-c', `${bin} calls 5`], { tool: 'bpftrace' });
  assert.equal(r.stdout, ref.stdout);
});

test('-l and -lv through the CLI print what bpftrace 0.17 prints', { skip: noBpftrace }, () => {
  const bin = stkChain(false);
  for (const args of [
    ['-l', 'tracepoint:syscalls:sys_enter_open*'],
    ['-lv', 'tracepoint:syscalls:sys_enter_openat'],
    ['-l', `uprobe:${bin}:level*`],
  ]) {
    const ours = cli(args);
    assert.equal(ours.code, 0, ours.stderr);
    const ref = execFileSync('/usr/bin/bpftrace', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.ok(ref.length > 0);
    assert.equal(ours.stdout, ref, args.join(' '));
  }
});
