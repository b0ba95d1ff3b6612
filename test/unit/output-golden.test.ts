// Each case rebuilds, by hand, the values a BEGIN-only program leaves behind
// and renders them; the bytes must equal what Debian's bpftrace 0.17 printed
// for that program (test/golden/output/NAME.bt -> NAME.txt / NAME.json /
// NAME.err, captured with capture.mjs).
process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/fixtures.js';
import {
  array, buf, checkFormatArgs, createRenderer, encodeOutput, formatDiagnostic, formatPrintf, inet, int, ksym, mac,
  parseFormat, probe, record, stack, str, strerrorValue, timestamp, tuple, uint, username, usym,
  type MapSnapshot, type Renderer, type StackFrame, type Value,
} from '../../src/output/index.js';

const dir = join(repoRoot, 'test/golden/output');

function golden(name: string, ext: string): string {
  return readFileSync(join(dir, `${name}.${ext}`)).toString('latin1');
}
const bytes = (s: string) => Buffer.from(encodeOutput(s)).toString('latin1');

/** Renders the case in both formats; `json` may differ when run-specific values differ between the two captures. */
function golden2(name: string, render: (r: Renderer, fmt: 'text' | 'json') => string): void {
  test(`golden ${name} (text)`, () => assert.equal(bytes(render(createRenderer('text'), 'text')), golden(name, 'txt')));
  test(`golden ${name} (json)`, () => assert.equal(bytes(render(createRenderer('json'), 'json')), golden(name, 'json')));
}

// ---- map builders ------------------------------------------------------------

type K = Value[];
const I = (n: number | bigint) => int(n);
const count = (name: string, ...e: [K, number][]): MapSnapshot => ({ name, kind: 'count', signed: false, entries: e.map(([key, v]) => ({ key, value: BigInt(v) })) });
const sum = (name: string, ...e: [K, number][]): MapSnapshot => ({ name, kind: 'sum', signed: true, entries: e.map(([key, v]) => ({ key, value: BigInt(v) })) });
const minm = (name: string, ...e: [K, number][]): MapSnapshot => ({ name, kind: 'min', signed: true, entries: e.map(([key, v]) => ({ key, value: BigInt(v) })) });
const maxm = (name: string, ...e: [K, number][]): MapSnapshot => ({ name, kind: 'max', signed: true, entries: e.map(([key, v]) => ({ key, value: BigInt(v) })) });
const vals = (name: string, ...e: [K, Value][]): MapSnapshot => ({ name, kind: 'none', entries: e.map(([key, value]) => ({ key, value })) });
/** avg/stats from the samples each key saw. */
const avgm = (kind: 'avg' | 'stats', name: string, ...e: [K, number[]][]): MapSnapshot => ({
  name, kind, signed: true,
  entries: e.map(([key, s]) => ({ key, value: { count: BigInt(s.length), total: BigInt(s.reduce((a, b) => a + b, 0)) } })),
});

/** hist() buckets for these samples, bucketed as bpftrace's log2 does. */
function log2Buckets(samples: (number | bigint)[]): bigint[] {
  const b: bigint[] = [];
  for (const s of samples) {
    const v = BigInt(s);
    const i = v < 0n ? 0 : v === 0n ? 1 : v.toString(2).length + 1;
    while (b.length <= i) b.push(0n);
    b[i]++;
  }
  return b;
}
const hist = (name: string, ...e: [K, (number | bigint)[]][]): MapSnapshot => ({ name, kind: 'hist', k: 0, entries: e.map(([key, s]) => ({ key, value: log2Buckets(s) })) });

function lhist(name: string, min: number, max: number, step: number, ...e: [K, number[]][]): MapSnapshot {
  const n = Math.trunc((max - min) / step);
  return {
    name, kind: 'lhist', min, max, step,
    entries: e.map(([key, samples]) => {
      const b: bigint[] = Array(n + 2).fill(0n);
      for (const v of samples) b[v < min ? 0 : Math.min(n + 1, Math.floor((v - min) / step) + 1)]++;
      return { key, value: b };
    }),
  };
}

// ---- maps and their order ------------------------------------------------------

golden2('count_keys', (r) => r.attachedProbes(1) + r.exit([count('@', [[I(3)], 1], [[I(1)], 3], [[I(2)], 2])]));

golden2('scalar_aggs', (r) => r.attachedProbes(1) + r.exit([
  count('@a', [[], 1]), sum('@b', [[], 5]), minm('@c', [[], -3]), maxm('@d', [[], 7]),
  avgm('avg', '@e', [[], [7, 2]]), avgm('stats', '@f', [[], [3, 4]]),
  vals('@g', [[], I(5)]), vals('@h', [[], str('str')]), vals('@i', [[], tuple(I(1), str('x'))]),
  vals('@j', [[I(1), I(2)], I(3)]), vals('@k', [[str('a')], I(1)]),
]));

golden2('map_order_by_name', (r) => r.attachedProbes(1) + r.exit(
  [['@z', 1], ['@a', 2], ['@m', 3], ['@', 4], ['@A', 5], ['@_x', 6]].map(([n, v]) => vals(n as string, [[], I(v as number)])),
));

golden2('sum_signed_order', (r) => r.attachedProbes(1) + r.exit([
  sum('@x', [[I(3)], -4], [[I(1)], 5], [[I(2)], 0], [[I(4)], -100], [[I(5)], 1e12]),
]));

golden2('int_values_order', (r) => r.attachedProbes(1) + r.exit([
  vals('@m', [[I(1)], I(10)], [[I(2)], I(-4)], [[I(3)], I(0)], [[I(4)], I(-5000000000)], [[I(5)], I(7)]),
]));

golden2('string_values_key_order', (r) => r.attachedProbes(1) + r.exit([
  vals('@s', [[I(3)], str('c')], [[I(1)], str('z')], [[I(-2)], str('a')], [[I(256)], str('q')]),
  vals('@t', [[str('b')], str('1')], [[str('a')], str('2')], [[str('ab')], str('2')], [[str('B')], str('3')]),
]));

golden2('multikey_order', (r) => r.attachedProbes(1) + r.exit([
  vals('@u', [[I(2), str('a')], str('x')], [[I(1), str('b')], str('x')], [[I(1), str('a')], str('x')], [[I(2), str('0')], str('x')]),
  vals('@v', [[str('k'), I(5), I(2)], str('y')], [[str('k'), I(1), I(9)], str('y')], [[str('j'), I(9), I(9)], str('y')]),
]));

golden2('min_max_keyed', (r) => r.attachedProbes(1) + r.exit([
  minm('@mn', [[I(3)], 5], [[I(1)], 7], [[I(2)], -1]),
  maxm('@mx', [[I(3)], 5], [[I(1)], 7], [[I(2)], 1]),
]));

golden2('avg_stats_keyed', (r) => r.attachedProbes(1) + r.exit([
  avgm('avg', '@av', [[I(3)], [5]], [[I(1)], [7]], [[I(2)], [-1, -4]]),
  avgm('stats', '@st', [[I(3)], [5]], [[I(1)], [7]], [[I(2)], [1, 2]]),
]));

// ---- hist / lhist -------------------------------------------------------------

golden2('hist_small', (r) => r.attachedProbes(1) + r.exit([hist('@a', [[], [-1, -100, 0, 1, 2, 3, 1023, 1024, 5, 5, 6]])]));

golden2('hist_mega', (r) => r.attachedProbes(1) + r.exit([
  hist('@b', [[], [1 << 20, 2 ** 30, 2 ** 30 + 5, (1 << 21) + 7]]),
  hist('@c', [[], [3, 70000]]),
]));

// The [2G, 4G) bucket: 0.17's JSON prints wrapped 32-bit bounds, reproduced by default.
golden2('hist_2g', (r) => r.attachedProbes(1) + r.exit([hist('@b', [[], [2 ** 31, 2 ** 29, 2 ** 30 + 1]])]));

golden2('hist_keys', (r) => r.attachedProbes(1) + r.exit([
  hist('@h', [[I(3)], [100, 100, 100]], [[I(1)], [3]], [[I(2)], [3, 20]]),
  hist('@g', [[str('y')], [8, 9]], [[str('x')], [0]]),
]));

golden2('hist_bars', (r) => r.attachedProbes(1) + r.exit([hist('@h', [[], [1, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 16, 16, 16, 16, 16]])]));

golden2('lhist_basic', (r) => r.attachedProbes(1) + r.exit([lhist('@a', 0, 100, 10, [[], [-5, 100, 150, 55, 0, 9]])]));

golden2('lhist_kilo', (r) => r.attachedProbes(1) + r.exit([
  lhist('@b', 0, 4096, 1024, [[], [2048, 5000]]),
  lhist('@c', 1048576, 4194304, 1048576, [[], [3000000, 1048576, 0]]),
  lhist('@d', 0, 2048, 512, [[], [600, 1600]]),
]));

golden2('lhist_uneven', (r) => r.attachedProbes(1) + r.exit([
  lhist('@e', 0, 10, 3, [[], [7, 9]]),
  lhist('@g', 5, 20, 5, [[], [3, 19]]),
  lhist('@k', 0, 10, 1, [[I(2)], [5, 6]], [[I(1)], [5]]),
]));

// ---- print() ----------------------------------------------------------------

golden2('print_top_div', (r) => {
  const m = vals('@m', [[I(1)], I(10)], [[I(2)], I(30)], [[I(3)], I(20)], [[I(4)], I(50)]);
  const c = count('@c', [[], 1]);
  const s = sum('@s', [[I(1)], -7], [[I(2)], 9]);
  return r.attachedProbes(1) + r.map(m, 2) + r.map(m, 0, 10) + r.map(m, 2, 3) + r.map(m, 10) + r.map(c) + r.map(s, 0, 2) + r.exit([c, m, s]);
});

golden2('print_hist_top_div', (r) => {
  const h = hist('@h', [[I(1)], [3]], [[I(2)], [3, 20]], [[I(3)], [100, 100, 100]]);
  const l = lhist('@l', 0, 10, 1, [[I(1)], [5]], [[I(2)], [5, 5]]);
  return r.attachedProbes(1) + r.map(h, 2) + r.map(h, 0, 2) + r.map(l, 0, 2) + r.map(l, 1) + r.exit([h, l]);
});

golden2('print_values', (r) => r.attachedProbes(1) + [
  I(1), str('abc'), tuple(I(1), str('a'), tuple(I(2), str('b'))), I(-5), str('bpftrace'), uint(1),
  int(-3, 8), uint(65535, 16), str(''), tuple(I(1), str('')),
].map((v) => r.value(v)).join('') + r.exit([]));

golden2('print_stats_avg_top', (r) => {
  const st = avgm('stats', '@st', [[I(1)], [5]], [[I(2)], [10]], [[I(3)], [1]]);
  const av = avgm('avg', '@av', [[I(1)], [5]], [[I(2)], [10]], [[I(3)], [1]]);
  return r.attachedProbes(1) + r.map(st, 2) + r.map(st, 0, 2) + r.map(av, 2) + r.map(av, 0, 2) + r.exit([av, st]);
});

golden2('clear_zero_empty', (r) => {
  const m = vals('@m');
  const c = count('@c', [[], 0]);
  const h: MapSnapshot = { name: '@h', kind: 'hist', k: 0, entries: [{ key: [], value: [0n, 0n, 0n, 0n, 0n] }] };
  const l = lhist('@l', 0, 10, 1, [[], []]);
  const s = avgm('stats', '@s', [[], []]);
  const a = avgm('avg', '@a', [[], []]);
  const k: MapSnapshot = { name: '@k', kind: 'hist', k: 0, entries: [{ key: [I(1)], value: [0n, 0n, 0n, 0n] }] };
  // max(-1) never stores (0.17 compares with the missing value as 0): an empty map.
  const neg = maxm('@neg');
  return r.attachedProbes(1) + [m, c, h, l, s, a, k].map((x) => r.map(x)).join('') + r.exit([m, c, h, l, s, a, k, neg]);
});

// ---- printf ----------------------------------------------------------------

const pf = (fmt: string, ...args: Value[]) => formatPrintf(fmt, args);

golden2('printf_ints', (r) => {
  const a = int(-5, 32), u = uint(0xffffffffffffffffn), v = I(0x1234567890), b = uint(200, 8), s = int(-1, 8);
  return r.attachedProbes(1) + [
    pf('%d %u %x %lu %lx %llx %hx %hhx %hd %hhd %ld %lld %zu %jd %o %X %p|\n', ...Array(17).fill(a)),
    pf('%d %u %x %ld %lu %p|\n', ...Array(6).fill(u)),
    pf('%d %u %x %ld %lx %hd %hhu %p|\n', ...Array(8).fill(v)),
    pf('%d %ld %x|\n', b, b, b),
    pf('%d %u %lu %x|\n', s, s, s, s),
    pf('%p %p %lp|\n', I(0), I(-1), I(0xffffffff81000000n)),
  ].map((t) => r.printf(t)).join('') + r.exit([]);
});

golden2('printf_width', (r) => r.attachedProbes(1) +
  r.printf(pf('[%5d][%-5d][%05d][%.3d][%8.3d][%-8.3d][%-05d][%3d][%.0d][%5.0d]\n', ...[42, 42, 42, 42, 42, -42, 42, 123456, 0, 0].map(I))) +
  r.printf(pf('[%8x][%-8X][%08o][%.4x][%20lu][%-20ld|]\n', I(255), I(255), I(8), I(10), I(12345678901234), I(-12345678901234))) +
  r.exit([]));

golden2('printf_strings', (r) => r.attachedProbes(1) +
  r.printf(pf('[%10s][%-10s][%.2s][%5.1s][%c%c][%5c][%-3c][%s]\n', str('abc'), str('abc'), str('abc'), str('abc'), I(104), I(105), I(65), I(66), str(''))) +
  r.printf(pf('%s|%10s|%-4s|%.1s|\n', ksym(0xffffffff81000000n, '_text'), inet([127, 0, 0, 1]), str('bpftrace'), str('bpftrace'))) +
  r.exit([]));

golden2('printf_percent', (r) => r.attachedProbes(1) + [
  pf('%% %d %%\n', I(5)), pf('a%%b\n'), pf('%%d\n', I(5)), pf('x%%%d\n', I(5)), pf('%d%%\n', I(5)), pf('100%%\n'), pf('%d %i %e\n', I(5)),
].map((t) => r.printf(t)).join('') + r.exit([]));

golden2('printf_buf', (r) => {
  const b = buf([0x61, 0x62, 0x01, 0xff, 0x5c, 0x22, 0x63, 0x0a]);
  const abc = buf([0x61, 0x62, 0x63]);
  return r.attachedProbes(1) + r.printf(pf('%r|%rx|%rh|\n', b, b, b)) + r.printf(pf('[%10r][%-10r][%.2r]\n', abc, abc, abc)) +
    r.value(buf([0x71, 0, 0x7a])) + r.exit([vals('@b', [[], buf([0x61, 2])]), vals('@c', [[buf([0x78, 1])], I(1)])]);
});

golden2('escapes', (r) => r.attachedProbes(1) + r.printf('a"b\\c\td\x01\r\n') + r.value(str('q"t')) +
  r.exit([vals('@', [[str('"k\\')], tuple(I(1), str('a"b'))]), vals('@t', [[str('tab\t')], I(1)])]));

golden2('utf8', (r) => r.attachedProbes(1) + r.printf('é\x7f\x1f\n') + r.value(str('é')) +
  r.exit([vals('@', [[str('é')], I(1)]), vals('@v', [[], str('€')])]));

// ---- other value kinds ------------------------------------------------------------

golden2('structs', (r) => {
  const d = array([int(0, 32), int(0, 32), int(0, 32)]);
  const s = record([['a', int(0, 32)], ['b', str('')], ['c', uint(0)], ['d', d], ['in', record([['x', int(0, 16)]])]]);
  return r.attachedProbes(1) + r.value(s) + r.value(d) + r.exit([vals('@s', [[], s]), vals('@arr', [[], d]), vals('@k', [[d], I(1)])]);
});

golden2('symbols_inet', (r) => r.attachedProbes(1) + r.exit([
  // ksym/inet values: 0.17 leaves out the newline between entries.
  vals('@k', [[I(1)], ksym(0xffffffff81000000n, '_text')], [[I(2)], ksym(0xffffffff81000010n, '__entry_text_start')]),
  vals('@n', [[I(1)], inet([127, 0, 0, 1])], [[I(2)], inet([127, 0, 0, 2])]),
  vals('@nn', [[inet([127, 0, 0, 1]), I(4)], I(1)]),
  vals('@s', [[ksym(0xffffffff81000000n, '_text')], I(1)]),
  vals('@c', [[I(1), str('a')], tuple(I(1), str('b'), inet([12, 11, 10, 255]))]),
  vals('@u', [[], usym(0x401000n)]),
]));

golden2('strings_misc', (r) => r.attachedProbes(1) + r.value(strerrorValue(1)) + r.value(mac([0, 0, 0, 0, 0, 0])) + r.exit([
  vals('@e', [[], strerrorValue(2)]), vals('@e2', [[I(1)], strerrorValue(0)]), vals('@m', [[], mac([0, 0, 0, 0, 0, 0])]),
  vals('@p', [[], probe('BEGIN')]), count('@pp', [[probe('BEGIN')], 1]), vals('@u', [[], username('root')]),
  vals('@t', [[I(1)], tuple(I(1), strerrorValue(3))]),
]));

golden2('cat_system', (r) => r.attachedProbes(1) + r.cat('Linux\n') + r.cat('Linux\n') + r.system('hi 5\n') + r.printf('after\n') + r.exit([]));

golden2('helper_error', (r) => r.attachedProbes(1) +
  r.helperError({ helper: 'map_delete_elem', retcode: -2, range: { line: 2, column: 20, endColumn: 33 }, source: readFileSync(join(dir, 'helper_error.bt'), 'utf8') }) +
  r.exit([vals('@x', [[I(1)], I(1)])]));

golden2('exit_end', (r) => r.attachedProbes(2) + r.printf('end\n') + r.exit([vals('@a', [[], I(1)]), vals('@b', [[], I(2)])]));

// Stacks come from one run of bpftrace (addresses differ between the text and JSON runs).
golden2('stacks', (r, fmt) => {
  const [lib, stk, a1, a2] = fmt === 'text'
    ? [0x7f4ecb91f829n, 0x7ffc7ad997b8n, 0x55bf8ba05a60n, 0x5441fd8949554100n]
    : [0x7f786e71f829n, 0x7ffdbafad268n, 0x555f2a7c6a60n, 0x5441fd8949554100n];
  const sys: StackFrame = { addr: lib, symbol: 'syscall', offset: 25n, module: '/usr/lib/x86_64-linux-gnu/libc.so.6' };
  const frames = [sys, { addr: stk }, { addr: a1 }, { addr: a2 }];
  const u = (n: number) => stack(true, frames.slice(0, n));
  const perf = (n: number) => stack(true, frames.slice(0, n), 'perf');
  return r.attachedProbes(1) + r.value(u(2)) + r.printf(pf('%s|\n', u(1))) + r.exit([
    count('@', [[u(4)], 1]), vals('@u', [[I(1)], u(3)]), count('@a', [[I(1), u(1)], 1]),
    vals('@v', [[], perf(2)]), vals('@p', [[perf(1)], I(1)]), vals('@t', [[], tuple(I(1), u(1))]),
  ]);
});

// strftime() values from one run: bpftrace booted at 10:45:45.74766 UTC that day.
golden2('time_values', (r) => {
  const boot = BigInt(Date.UTC(2026, 10, 25, 10, 45, 45)) * 1_000_000n + 747_660_000n;
  return r.attachedProbes(1) + r.printf(pf('%s\n', timestamp('%Y-%m-%d %H:%M:%S.%f %z %Z', boot + 1000n))) +
    r.value(timestamp('%H:%M', boot)) +
    r.exit([vals('@t', [[], timestamp('%H:%M:%S', boot + 2_000_000_000n)]), vals('@k', [[timestamp('%Y', boot)], I(1)])]);
});

// ---- compile-time printf errors, in bpftrace's diagnostic layout -----------------

test('golden errors_printf (stderr)', () => {
  const source = readFileSync(join(dir, 'errors_printf.bt'), 'utf8');
  const line = source.split('\n')[0];
  let out = '';
  for (const m of line.matchAll(/printf\(("(?:[^"\\]|\\.)*")((?:, (?:\([^)]*\)|[^,)]+))*)\)/g)) {
    const fmt = JSON.parse(m[1]) as string;
    const args = m[2] ? m[2].slice(2).split(/, (?![^(]*\))/) : [];
    const types = args.map((a) => (a.startsWith('"') ? 'string' : a.startsWith('(') ? 'tuple' : 'integer'));
    const msg = checkFormatArgs(parseFormat(fmt), types);
    if (!msg) continue;
    const column = m.index + 1;
    out += formatDiagnostic({ level: 'ERROR', message: msg, range: { line: 1, column, endColumn: column + m[0].length }, source });
  }
  assert.equal(out, golden('errors_printf', 'err'));
});

test('golden files exist for every case', () => {
  for (const n of ['count_keys', 'hist_small', 'printf_ints', 'stacks']) assert.ok(existsSync(join(dir, `${n}.txt`)));
});
