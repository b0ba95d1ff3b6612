// printf: what the compiler sees (conversions, argument checks with
// bpftrace 0.17's messages) and C/glibc formatting semantics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buf, checkFormatArgs, encodeOutput, formatPrintf, int, ksym, parseFormat, stack, str, uint, type Value } from '../../src/output/index.js';

const pf = (fmt: string, ...args: Value[]) => formatPrintf(fmt, args);

test('parseFormat finds conversions with their argument kinds', () => {
  const s = parseFormat('%-8lu %s %5.2x %rx %c %p %%');
  assert.deepEqual(s.conversions.map((c) => [c.text, c.length, c.conv, c.expects]), [
    ['%-8lu', 'l', 'u', 'integer'], ['%s', '', 's', 'string'], ['%5.2x', '', 'x', 'integer'],
    ['%rx', '', 'rx', 'buffer'], ['%c', '', 'c', 'integer'], ['%p', '', 'p', 'integer'],
  ]);
  const c = s.conversions[2];
  assert.equal(c.width, 5);
  assert.equal(c.precision, 2);
  assert.equal(c.flags.left, false);
});

test('parseFormat: what bpftrace 0.17 does and does not count as a conversion', () => {
  const n = (f: string) => parseFormat(f).conversions.length;
  // "%%d" holds a conversion (bpftrace scans every "%"); "%%" alone does not.
  assert.equal(n('%%d'), 1);
  assert.equal(n('100%%'), 0);
  assert.equal(n('%ls %lc %hhs %lr %K %5 %'), 0);
  assert.equal(n('%lp %zx %jd %td %hho %llX'), 6);
  // Later bpftrace's flags and %i; not the space flag, which would turn the
  // second "%" of "100%% done" into a "% d" conversion.
  assert.equal(n('%+d %#x %i'), 3);
  assert.equal(n('100%% done'), 0);
});

test('checkFormatArgs words errors like bpftrace 0.17', () => {
  const check = (f: string, ...t: string[]) => checkFormatArgs(parseFormat(f), t);
  assert.equal(check('%d\n'), 'printf: Not enough arguments for format string (0 supplied, 1 expected)');
  assert.equal(check('%d\n', 'integer', 'integer'), 'printf: Too many arguments for format string (2 supplied, 1 expected)');
  assert.equal(check('%s %d', 'integer', 'integer'), 'printf: %s specifier expects a value of type string (integer supplied)');
  assert.equal(check('%-5lu', 'string'), 'printf: %lu specifier expects a value of type integer (string supplied)');
  assert.equal(check('%rx', 'tuple'), 'printf: %rx specifier expects a value of type buffer (tuple supplied)');
  assert.equal(check('%d', 'record'), 'printf: %d specifier expects a value of type integer (record supplied)');
  // Symbolic values print as strings, pointers as integers.
  assert.equal(check('%s %s %s %s %d', 'ksym', 'kstack', 'inet', 'strerror', 'pointer'), undefined);
  assert.equal(check('%d', 'ksym'), 'printf: %d specifier expects a value of type integer (string supplied)');
  assert.equal(checkFormatArgs(parseFormat('echo %d'), [], 'system'), 'system: Not enough arguments for format string (0 supplied, 1 expected)');
});

test('integers are cast to the length modifier type first', () => {
  const a = int(-5, 32);
  assert.equal(pf('%d %u %x %lu %hx %hhu %hhd %o', a, a, a, a, a, a, a, a), '-5 4294967291 fffffffb 18446744073709551611 fffb 251 -5 37777777773');
  const big = uint(0x8000000000000001n);
  assert.equal(pf('%ld %lu %lx %d %u', big, big, big, big, big), '-9223372036854775807 9223372036854775809 8000000000000001 1 1');
});

// Expected strings are glibc's printf output for the same format and value.
test('flags, width and precision follow glibc', () => {
  assert.equal(pf('[%05s][%-05s][%05c]', str('ab'), str('ab'), int(65)), '[   ab][ab   ][    A]');
  assert.equal(pf('[%020p][%-20p][%20p][%p][%5p][%.3p][%+p]', int(0x1234), int(0x1234), int(0), int(0), int(0), int(1), int(1)),
    '[0x000000000000001234][0x1234              ][               (nil)][(nil)][(nil)][0x001][+0x1]');
  assert.equal(pf('[%#o][%#.0o][%.0d][%#x][%#.3x][%+.0d][%+05d][%-+5d][%#08x]', ...[0, 0, 0, 0, 1, 0, 42, 42, 255].map((n) => int(n))),
    '[0][0][][0][0x001][+][+0042][+42  ][0x0000ff]');
  assert.equal(pf('[%.0x][%#.0x][%08.3d][%-08d][%#X][%#o]', ...[0, 0, 42, 42, 255, 8].map((n) => int(n))), '[][][     042][42      ][0XFF][010]');
});

test('%s of symbolic values uses their text; width counts bytes', () => {
  assert.equal(pf('%s|%8s|', ksym(0xffffffff81000000n, '_text'), str('é')), '_text|      é|');
  assert.equal(pf('%s|', stack(false, [{ addr: 1n, symbol: 'f', offset: 3n }])), '\n        f+3\n|');
  // Precision can cut a UTF-8 sequence; the raw byte survives to the output.
  assert.deepEqual(Array.from(encodeOutput(pf('[%.1s]', str('é')))), [0x5b, 0xc3, 0x5d]);
});

test('%c writes one raw byte, %r variants render buffers', () => {
  assert.deepEqual(Array.from(encodeOutput(pf('%c%c', int(0xfb), int(0x141)))), [0xfb, 0x41]);
  const b = buf([0x41, 0x00, 0x7f, 0x20, 0x7e, 0x80]);
  assert.equal(pf('%r|%rx|%rh', b, b, b), 'A\\x00\\x7f ~\\x80|\\x41\\x00\\x7f\\x20\\x7e\\x80|41 00 7f 20 7e 80');
});

test('"%%" is a percent sign only up to the last conversion (0.17 writes the rest as-is)', () => {
  assert.equal(pf('%% %d %%\n', int(5)), '% 5 %%\n');
  assert.equal(pf('a%%b\n'), 'a%%b\n');
  assert.equal(pf('%%d\n', int(5)), '%d\n');
  assert.equal(pf('x%%%d|', int(5)), 'x%5|');
});

test('a NUL in the format ends the piece snprintf sees', () => {
  assert.equal(pf('a\0b %d|c\0d', int(1)), 'a|c\0d');
});
