// Leaf values, hist labels beyond 0.17, diagnostics, and the renderers'
// options: the parts the bpftrace 0.17 captures cannot cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/fixtures.js';
import {
  bool, createRenderer, decodeBytes, encodeOutput, formatDiagnostic, histText, inet, int, jsonEscape, ksym, mac, ntop,
  stack, str, strerror, timestamp, usym, type MapSnapshot, type Symbolizer,
} from '../../src/output/index.js';

test('decodeBytes/encodeOutput keep arbitrary bytes', () => {
  const raw = Uint8Array.from([0x61, 0xc3, 0xa9, 0xff, 0xe2, 0x82, 0xac, 0xc3, 0x00, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80]);
  const s = decodeBytes(raw);
  assert.equal(s.slice(0, 2), 'aé');
  assert.deepEqual(Array.from(encodeOutput(s)), Array.from(raw));
  assert.deepEqual(Array.from(encodeOutput('😀')), [0xf0, 0x9f, 0x98, 0x80]);
});

test('ntop matches glibc inet_ntop for IPv6', () => {
  const cases = JSON.parse(readFileSync(join(repoRoot, 'test/golden/output/ntop6_glibc.json'), 'utf8')) as { bytes: number[]; text: string }[];
  for (const c of cases) assert.equal(ntop(Uint8Array.from(c.bytes)), c.text);
  assert.equal(ntop(Uint8Array.from([10, 0, 0, 1])), '10.0.0.1');
});

test('macaddr, strerror, bool', () => {
  const r = createRenderer('text');
  assert.equal(r.value(mac([0xde, 0xad, 0xbe, 0xef, 0x0a, 1])), 'DE:AD:BE:EF:0A:01\n');
  assert.equal(strerror(110), 'Connection timed out');
  assert.equal(strerror(4000), 'Unknown error 4000');
  assert.equal(r.value(bool(true)), 'true\n');
  assert.equal(createRenderer('json').value(bool(false)), '{"type": "value", "data": false}\n');
});

test('hist(n, k) labels follow later bpftrace (2^k buckets per power of two)', () => {
  // Buckets for k=2: 0 is negative, 1..8 hold 0..7, then 4 per power of two.
  const b = Array(30).fill(1n);
  const labels = histText(b, 2).split('\n').filter(Boolean).map((l) => l.slice(0, 16).trim());
  assert.deepEqual(labels.slice(0, 14), ['(..., 0)', '[0]', '[1]', '[2]', '[3]', '[4]', '[5]', '[6]', '[7]', '[8, 10)', '[10, 12)', '[12, 14)', '[14, 16)', '[16, 20)']);
  assert.equal(labels[28], '[224, 256)');
  assert.equal(labels[29], '[256, 320)');
});

test('hist labels past 2^50 use P and E; JSON bounds are exact with valid: true', () => {
  const b: bigint[] = Array(66).fill(0n);
  b[52] = 1n;
  b[65] = 2n;
  const m: MapSnapshot = { name: '@', kind: 'hist', k: 0, entries: [{ key: [], value: b }] };
  const text = createRenderer('text').map(m);
  assert.match(text, /^\[1P, 2P\) +1 \|/m);
  assert.match(text, /^\[8E, 16E\) +2 \|/m);
  const json = createRenderer('json', { valid: true }).map(m);
  assert.match(json, /\{"min": 1125899906842624, "max": 2251799813685247, "count": 1\}/);
  assert.match(json, /\{"min": 9223372036854775808, "max": 18446744073709551615, "count": 2\}/);
});

test('JSON valid mode quotes what 0.17 leaves bare and keeps UTF-8', () => {
  const v = createRenderer('json', { valid: true });
  assert.equal(v.value(mac([1, 2, 3, 4, 5, 6])), '{"type": "value", "data": "01:02:03:04:05:06"}\n');
  assert.equal(v.printf('é\n'), '{"type": "printf", "data": "é\\n"}\n');
  const q = createRenderer('json');
  assert.equal(q.value(timestamp('%Y', 0n)).includes('"data": 1970}'), true);
  assert.equal(jsonEscape('\x1f\x7f"\\'), '\\u001f\x7f\\"\\\\');
});

test('frames and symbols left unresolved go through the Symbolizer', () => {
  const symbolizer: Symbolizer = {
    ksym: (a) => (a === 0x10n ? { name: 'kfunc', offset: 4n } : undefined),
    usym: (a, pid) => (a === 0x20n && pid === 7 ? { name: 'ufunc', offset: 1n, module: '/bin/x' } : undefined),
  };
  const r = createRenderer('text', { symbolizer });
  assert.equal(r.value(stack(false, [{ addr: 0x10n }, { addr: 0x11n }])), '\n        kfunc+4\n        0x11\n\n');
  assert.equal(r.value(stack(true, [{ addr: 0x20n }, { addr: 0x21n }], 'perf', 7)), '\n\t20 ufunc+1 (/bin/x)\n\t21 0x21 ([unknown])\n\n');
  assert.equal(r.value(stack(false, [{ addr: 0x10n }], 'raw')), '\n10\n\n');
  assert.equal(r.value(ksym(0x10n)), 'kfunc\n');
  assert.equal(r.value(usym(0x20n, undefined, 7)), 'ufunc\n');
  assert.equal(r.value(inet([192, 168, 0, 1])), '192.168.0.1\n');
  // bpftrace 0.17: print(ksym(0)) and print(ksym(1)).
  assert.equal(r.value(ksym(0n)), '0\n');
  assert.equal(r.value(ksym(1n)), '0x1\n');
});

test('messages: probes banner, lost events', () => {
  const t = createRenderer('text'), j = createRenderer('json');
  assert.equal(t.attachedProbes(1), 'Attaching 1 probe...\n');
  assert.equal(t.attachedProbes(3), 'Attaching 3 probes...\n');
  assert.equal(t.lostEvents(12), 'Lost 12 events\n');
  assert.equal(j.lostEvents(12), '{"type": "lost_events", "data": {"events": 12}}\n');
  assert.equal(t.join('a b'), 'a b\n');
  assert.equal(j.join('a b'), '{"type": "join", "data": "a b"}\n');
  assert.equal(j.time('10:00:00\n'), '{"type": "time", "data": "10:00:00\\n"}\n');
});

// Layouts captured from bpftrace 0.17 (script files with tabs, a range over two lines, a range at end of input).
test('diagnostics: tabs become four spaces, multi-line ranges name lines only', () => {
  assert.equal(formatDiagnostic({
    level: 'ERROR', message: 'printf: Not enough arguments for format string (0 supplied, 1 expected)', file: '/tmp/e2.bt',
    range: { line: 1, column: 17, endColumn: 31 }, source: 'BEGIN { @x = 1;\tprintf("%d\\n"); }\n',
  }), '/tmp/e2.bt:1:17-31: ERROR: printf: Not enough arguments for format string (0 supplied, 1 expected)\n' +
    'BEGIN { @x = 1;    printf("%d\\n"); }\n                   ~~~~~~~~~~~~~~\n');
  assert.equal(formatDiagnostic({
    level: 'ERROR', message: 'printf: %s specifier expects a value of type string (integer supplied)', file: '/tmp/e.bt',
    range: { line: 4, column: 2, endLine: 5, endColumn: 6 }, source: 'x',
  }), '/tmp/e.bt:4-5: ERROR: printf: %s specifier expects a value of type string (integer supplied)\n');
  assert.equal(formatDiagnostic({
    level: 'ERROR', message: 'syntax error, unexpected end of file, expecting }', range: { line: 1, column: 17, endColumn: 17 }, source: 'BEGIN { @x = 1; ',
  }), 'stdin:1:17-17: ERROR: syntax error, unexpected end of file, expecting }\nBEGIN { @x = 1; \n                \n');
  assert.equal(formatDiagnostic({ level: 'WARNING', message: 'Addrspace is not set' }), 'WARNING: Addrspace is not set\n');
});

test('empty maps: text prints a bare newline, JSON nothing', () => {
  const m: MapSnapshot = { name: '@x', kind: 'count', signed: false, entries: [] };
  assert.equal(createRenderer('text').map(m), '\n');
  assert.equal(createRenderer('json').map(m), '');
});

test('ties in value-sorted maps keep the order they were read in', () => {
  const m: MapSnapshot = { name: '@', kind: 'count', signed: false, entries: [[3, 1], [1, 1], [2, 0]].map(([k, v]) => ({ key: [int(k)], value: BigInt(v) })) };
  assert.equal(createRenderer('text').map(m), '@[2]: 0\n@[3]: 1\n@[1]: 1\n');
  const s: MapSnapshot = { name: '@s', kind: 'none', entries: [{ key: [str('b')], value: str('x') }, { key: [str('a')], value: str('y') }] };
  assert.equal(createRenderer('text').map(s), '@s[a]: y\n@s[b]: x\n');
});

test('hist/avg ties follow the raw little-endian key bytes', () => {
  // Keys 1 and 256 with equal totals: 256 is 00 01 ... in memory, so it comes first.
  const h: MapSnapshot = { name: '@h', kind: 'hist', k: 0, entries: [1, 256].map((k) => ({ key: [int(k)], value: [0n, 1n] })) };
  assert.match(createRenderer('text').map(h), /^@h\[256\]: \n.*\n\n@h\[1\]: /s);
});
