// How tools are run: `bpfkit tools`, `-h` and `--program` for each tool,
// the programs' validity (a printed program runs as a script), option
// parsing, and the template helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/fixtures.js';
import { findTool, toolNames, unavailableReason } from '../../src/tools/index.js';
import { parseOptions, render, secondsColumn, ToolUsageError, usageLine } from '../../src/tools/options.js';
import { symbolicTable } from '../../src/tools/tool.js';
import { bpfkit } from './tools-helpers.js';

const root = !isRoot() && 'needs root';

/** Every tool of bpftrace's tools/ directory, plus BCC's three. */
const EXPECTED = [
  'bashreadline', 'biolatency', 'biosnoop', 'biostacks', 'bitesize', 'capable', 'cpuwalk', 'dcsnoop', 'execsnoop',
  'gethostlatency', 'killsnoop', 'loads', 'mdflush', 'naptime', 'oomkill', 'opensnoop', 'pidpersec', 'runqlat',
  'runqlen', 'setuids', 'ssllatency', 'sslsnoop', 'statsnoop', 'swapin', 'syncsnoop', 'syscount', 'tcpaccept',
  'tcpconnect', 'tcpdrop', 'tcplife', 'tcpretrans', 'tcpsynbl', 'threadsnoop', 'undump', 'vfscount', 'vfsstat',
  'writeback', 'xfsdist',
];

test('bpfkit tools: every tool, whether it runs here, and why not', () => {
  assert.deepEqual(toolNames(), EXPECTED);
  const r = bpfkit(['tools']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'TOOL            RUNS  DESCRIPTION');
  assert.equal(lines.length, EXPECTED.length + 1);
  EXPECTED.forEach((name, i) => {
    const t = findTool(name)!;
    const why = unavailableReason(t);
    assert.equal(lines[i + 1], `${name.padEnd(14)}  ${(why ? 'no' : 'yes').padEnd(4)}  ${t.description}${why ? ` (cannot run here: ${why})` : ''}`);
  });
});

test('this kernel: kprobe-only tools cannot run, tracepoint-backed ones can', { skip: root }, () => {
  for (const name of ['dcsnoop', 'mdflush', 'swapin', 'vfscount', 'xfsdist']) assert.match(unavailableReason(findTool(name)!) ?? '', /needs kprobes or fentry/, name);
  for (const name of ['execsnoop', 'opensnoop', 'biolatency', 'tcpconnect', 'tcplife', 'tcpretrans', 'oomkill', 'vfsstat', 'capable']) assert.equal(unavailableReason(findTool(name)!), undefined, name);
});

test('-h: BCC-style usage with examples, for every tool', () => {
  for (const name of EXPECTED) {
    const r = bpfkit([name, '-h']);
    assert.equal(r.code, 0, name);
    assert.ok(r.stdout.startsWith(`${usageLine(findTool(name)!)}\n\n${findTool(name)!.description}\n\n`), name);
    assert.match(r.stdout, /\n {2}-h, --help {12}show this help message and exit\n/);
    assert.match(r.stdout, new RegExp(`\\nexamples:\\n {4}bpfkit ${name}`));
  }
});

test('--program: the program a tool runs, which runs as a script too', { skip: root }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-program-'));
  try {
    for (const name of EXPECTED) {
      const p = bpfkit([name, '--program']);
      assert.equal(p.code, 0, name);
      assert.doesNotMatch(p.stdout, /\{\{\w+\}\}/, name);
      if (unavailableReason(findTool(name)!)) continue;
      const file = join(dir, `${name}.bt`);
      writeFileSync(file, p.stdout);
      const d = bpfkit(['--dry-run', file]);
      assert.equal(d.code, 0, `${name}: ${d.stderr}`);
    }
    // Options change the program: filters in predicates, columns in printf.
    assert.match(bpfkit(['opensnoop', '--program', '-p', '42', '-x']).stdout, /\/pid == 42\/[\s\S]*if \(\$ret < 0\)/);
    assert.match(bpfkit(['biolatency', '--program', '-m', '-D']).stdout, /@msecs\[\$rq->q->disk->disk_name\] = hist\(\$delta\);/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('option parsing: argparse\'s forms and errors', () => {
  const spec = findTool('biolatency')!;
  assert.deepEqual({ ...parseOptions(spec, ['-mT', '1', '5']) }, { milliseconds: true, timestamp: true, interval: 1, count: 5 });
  assert.deepEqual({ ...parseOptions(findTool('opensnoop')!, ['-p123', '--uid=7', '-f', 'O_RDWR', '-f', 'O_WRONLY']) }, { pid: 123, uid: '7', flag_filter: ['O_RDWR', 'O_WRONLY'] });
  assert.throws(() => parseOptions(spec, ['1', '2', '3']), (e: unknown) => e instanceof ToolUsageError && /unrecognized arguments: 3/.test(e.message));
  assert.throws(() => parseOptions(findTool('opensnoop')!, ['-p']), /argument -p\/--pid: expected one argument/);
  assert.throws(() => parseOptions(spec, ['x']), /argument interval: invalid int value: 'x'/);
  const bad = bpfkit(['killsnoop', '-x']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'usage: bpfkit killsnoop [-h] [--program]\nbpfkit killsnoop: error: unrecognized arguments: -x\n');
});

test('templates and generated columns', () => {
  assert.equal(render('a\n\t{{X}}\nb {{Y}}\n{{Z}}\n', { X: 'x1\nx2', Y: 3, Z: '' }), 'a\n\tx1\n\tx2\nb 3\n');
  assert.throws(() => render('{{NOPE}}', {}), /no value for NOPE/);
  const c = secondsColumn('$t', 'elapsed', 8, 3);
  assert.equal(c.pre, '$t = (elapsed) / 1000000;');
  assert.equal(c.fmt, '%d.%03d%s');
  assert.deepEqual(c.args, ['$t / 1000', '$t % 1000', '($t < 10000 ? "   " : $t < 100000 ? "  " : $t < 1000000 ? " " : "")']);
});

test('tracepoint symbol tables come from the format file', { skip: root }, () => {
  const reasons = symbolicTable('writeback', 'writeback_start', 'reason');
  assert.deepEqual(reasons.slice(0, 3), [[0, 'background'], [1, 'vmscan'], [2, 'sync']]);
});
