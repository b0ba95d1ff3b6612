// The provider table loads the ELF/DWARF/BTF-backed providers (more.ts) only
// for programs that name one, and keeps bpftrace's provider order either way.
// A file of its own: node:test runs each file in a fresh process, so nothing
// else has loaded more.ts here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProvidersFor, providers } from '../../src/probes/index.js';
import { parse } from '../../src/lang/parser.js';
import { printsUserSymbols } from '../../src/runtime/printer.js';
import { compile } from '../../src/compile.js';

const names = () => providers({ maxStrlen: 64 }).map((p) => p.names[0]);

test('provider table: basic providers only until a program names another', async () => {
  assert.deepEqual(names(), ['BEGIN', 'END', 'interval', 'profile', 'tracepoint', 'rawtracepoint', 'software']);
  await loadProvidersFor(parse('BEGIN { } t:syscalls:sys_enter_openat { } rawtracepoint:sched_switch { } i:s:1 { } s:cpu-clock:1000 { }'));
  assert.equal(names().length, 7, 'basic providers and their aliases load nothing');
  // What is unknown might be one of them: the full table decides.
  await loadProvidersFor(parse('nosuch:x { }'));
  assert.deepEqual(names(), [
    'BEGIN', 'END', 'interval', 'profile', 'tracepoint', 'rawtracepoint', 'uprobe', 'uretprobe', 'usdt',
    'kprobe', 'kretprobe', 'fentry', 'fexit', 'software', 'hardware', 'watchpoint', 'iter',
  ]);
});

test('user symbols are wanted only by programs that can print user addresses', () => {
  const wants = (src: string) => printsUserSymbols(compile(src, 'stdin', { ncpus: 2 }));
  assert.equal(wants('BEGIN { @[kstack] = count(); printf("%d\\n", pid); }'), false);
  assert.equal(wants('BEGIN { @[ustack] = count(); }'), true);
  assert.equal(wants('BEGIN { @[comm, usym(0)] = count(); }'), true);
  assert.equal(wants('BEGIN { printf("%s\\n", ustack(3)); }'), true);
  assert.equal(wants('BEGIN { @x = (1, ustack); }'), true);
});
