// strftime against glibc: test/golden/output/strftime_glibc.json holds
// perl POSIX::strftime (libc) output for several zones, instants and formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/fixtures.js';
import { formatStrftime, localTime, strftime } from '../../src/output/index.js';

interface Case { tz: string; epoch: number; fmt: string; out: string }
const cases = JSON.parse(readFileSync(join(repoRoot, 'test/golden/output/strftime_glibc.json'), 'utf8')) as Case[];

const zones = [...new Set(cases.map((c) => c.tz))];

for (const tz of zones) {
  test(`strftime matches glibc in ${tz}`, () => {
    const saved = process.env.TZ;
    process.env.TZ = tz;
    try {
      for (const c of cases.filter((x) => x.tz === tz)) {
        assert.equal(strftime(c.fmt, localTime(c.epoch)), c.out, `${c.fmt} at ${c.epoch}`);
      }
    } finally {
      process.env.TZ = saved;
    }
  });
}

test('bpftrace extras: %f microseconds, the 64-byte buffer, empty results', () => {
  const saved = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    const ns = 1_700_000_000_123_456_789n;
    assert.equal(formatStrftime('%H:%M:%S.%f', ns, { micros: true }), '22:13:20.123456');
    // time() has no %f: glibc echoes the unknown conversion.
    assert.equal(formatStrftime('%H:%M:%S.%f', ns), '22:13:20.%f');
    assert.equal(formatStrftime('x'.repeat(63), ns), 'x'.repeat(63));
    assert.equal(formatStrftime('x'.repeat(64), ns), undefined);
    assert.equal(formatStrftime('', ns), undefined);
    assert.equal(formatStrftime('%Y', -1n), '1969');
  } finally {
    process.env.TZ = saved;
  }
});
