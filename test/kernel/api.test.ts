// The README's library example, run for real against a workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Trace, run, compileProgram, CompileError } from '../../src/index.js';
import { workload, WORKLOAD_COMM } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';

function runWorkload(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const w = spawn(workload(), args, { stdio: ['pipe', 'ignore', 'inherit'] });
    w.stdin.end('go\n');
    w.on('exit', () => resolve(w.pid!));
  });
}

test('README example: count getppid calls per comm through the library', { skip: !isRoot() && 'needs root' }, async () => {
  const t = await Trace.start(`tracepoint:syscalls:sys_enter_getppid /comm == "${WORKLOAD_COMM}"/ { @calls[comm] = count(); }`);
  await runWorkload(['getppid', '777']);
  const { maps, exitCode } = await t.stop();
  assert.equal(exitCode, 0);
  assert.equal(maps.length, 1);
  assert.equal(maps[0].name, '@calls');
  assert.deepEqual(maps[0].entries, [{ key: [{ kind: 'str', value: WORKLOAD_COMM }], value: 777n }]);
});

test('events arrive through the async iterator with typed args', { skip: !isRoot() && 'needs root' }, async () => {
  const t = await Trace.start(`tracepoint:syscalls:sys_enter_close /comm == "${WORKLOAD_COMM}" && (int32)args.fd == -42/ { printf("closing %d\\n", (int32)args.fd); exit(); }`);
  const pid = runWorkload(['close', '-42']);
  const seen = [];
  for await (const e of t.events()) seen.push(e);
  await pid;
  const r = await t.done();
  assert.equal(r.exitCode, 0);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0], { type: 'printf', text: 'closing -42\n', args: [{ kind: 'int', value: -42n, bits: 64, signed: true }] });
});

test('run() returns events and maps of a BEGIN-only program', { skip: !isRoot() && 'needs root' }, async () => {
  const r = await run('BEGIN { @x = sum(5); @x = sum(7); printf("done\\n"); }');
  assert.equal(r.exitCode, 0);
  assert.deepEqual(r.events[0], { type: 'printf', text: 'done\n', args: [] });
  assert.equal(r.maps[0].name, '@x');
  assert.deepEqual(r.maps[0].entries, [{ key: [], value: 12n }]);
});

test('compileProgram reports errors in bpftrace format without touching the kernel', () => {
  assert.throws(() => compileProgram('BEGIN { @x = foo; }'), (e: unknown) => {
    assert.ok(e instanceof CompileError);
    assert.match((e as Error).message, /^stdin:1:14-17: ERROR: Unknown identifier: 'foo'\nBEGIN \{ @x = foo; \}\n {13}~~~\n?$/);
    return true;
  });
});
