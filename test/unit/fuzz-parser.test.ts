// Mutated programs must either parse or fail with a CompileError whose
// locations lie inside the source; never any other exception, never a hang.
// Seeded, so a failure reproduces: the assertion message holds the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../src/lang/parser.js';
import { CompileError } from '../../src/lang/diagnostics.js';
import { printAst } from '../../src/lang/printer.js';

const SEEDS: string[] = [
  'kprobe:do_nanosleep,tracepoint:syscalls:sys_enter_open* /pid == 1 && comm != "x"/ { @a[pid, comm] = count(); $x = (uint32)arg0; }',
  'BEGIN { $t = (1, "a\\n\\x41"); print($t.0); if ($x) { @c++ } else if (1) { --$x } else { @d[1] += 2 } }',
  'uprobe:"/bin/ba sh":readline /(pid / 2) == 1/ { @[ustack(perf, 3)] = hist(retval); }',
  '#!/usr/bin/bpftrace\n#include <linux/sched.h>\nstruct X { int a; };\nconfig = { max_strlen = 64 }\nBEGIN { exit(); }',
  'BEGIN { let $x: uint8[4] = 0; for ($kv : @m) { } for ($i : 0..10) { break; } unroll(3) { @i <<= 1; } }',
  'interval:s:1 { $p = (struct task_struct *)curtask; @ = $p->parent->pid + sizeof(struct X) - offsetof(struct X, a.b); }',
  't:syscalls:sys_enter_* { @[args.filename, probe] = count(); } END { clear(@); } // done\n',
  'BEGIN { while ($i < 0x10) { $i = $i ? -1 : 1e3; /* c */ } printf("%s %d\\n", comm, $1 + $#); }',
];

const CHARS = ' \t\n\r{}()[];,:.?/*+-%&|^!~=<>@$#"\'\\`0123456789abcxyz_é\u0000';

function rng(seed: number): () => number {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tokens(src: string): string[] {
  return src.match(/"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|\s+|<<=|>>=|==|!=|<=|>=|&&|\|\||\+\+|--|->|\.\.|[^\s]/g) ?? [];
}

function mutate(src: string, rand: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  let toks = tokens(src);
  const rounds = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds && toks.length; r++) {
    const i = Math.floor(rand() * toks.length);
    switch (Math.floor(rand() * 6)) {
      case 0:
        toks.splice(i, 1);
        break;
      case 1:
        toks.splice(i, 0, toks[i]);
        break;
      case 2: {
        const j = Math.floor(rand() * toks.length);
        [toks[i], toks[j]] = [toks[j], toks[i]];
        break;
      }
      case 3:
        toks.splice(i, 0, pick([...CHARS]));
        break;
      case 4:
        toks = toks.slice(0, i);
        break;
      default:
        toks.splice(i, 0, pick(toks));
    }
  }
  return toks.join('');
}

test('3000 seeded mutations parse or throw CompileError', () => {
  const rand = rng(0xb9f7);
  let parsed = 0;
  let rejected = 0;
  const t0 = Date.now();
  for (let n = 0; n < 3000; n++) {
    const src = mutate(SEEDS[n % SEEDS.length], rand);
    try {
      const p = parse(src);
      printAst(p);
      parsed++;
    } catch (e) {
      if (!(e instanceof CompileError)) assert.fail(`${JSON.stringify(src)} threw ${(e as Error)?.stack ?? String(e)}`);
      assert.ok(e.diagnostics.length > 0, JSON.stringify(src));
      const size = Buffer.byteLength(src);
      for (const d of e.diagnostics) {
        if (!d.loc) continue;
        const l = d.loc;
        assert.ok(l.start >= 0 && l.start <= l.end && l.end <= size, `${JSON.stringify(src)}: offsets ${l.start}-${l.end}`);
        assert.ok(l.line >= 1 && l.line <= l.endLine && l.col >= 1, `${JSON.stringify(src)}: ${JSON.stringify(l)}`);
      }
      rejected++;
    }
  }
  // Both outcomes must be exercised, or the mutations are not doing their job.
  assert.ok(parsed > 100 && rejected > 1000, `parsed ${parsed}, rejected ${rejected}`);
  assert.ok(Date.now() - t0 < 10000, 'too slow');
});

test('truncating a program at every byte never throws anything but CompileError', () => {
  for (const seed of SEEDS) {
    for (let i = 0; i <= seed.length; i++) {
      const src = seed.slice(0, i);
      try {
        parse(src);
      } catch (e) {
        if (!(e instanceof CompileError)) assert.fail(`${JSON.stringify(src)} threw ${String(e)}`);
      }
    }
  }
});
