// A bounded, seeded fuzz of the front end and compiler: valid programs are
// mutated (tokens dropped, repeated, swapped or replaced, characters
// inserted or deleted, text cut short) and fed through parse + compile.
// Whatever the input, the only acceptable failure is a CompileError, the
// kind that prints as a diagnostic; any other exception is a compiler bug.
// Nothing here loads a program, so it runs without root; attach points that
// need tracefs then fail as diagnostics too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, type Compiled } from '../../src/compile.js';
import '../../src/probes/more.js';
import { assemble, LD_IMM64_CODE } from '../../src/bpf/asm/index.js';
import { CompileError } from '../../src/lang/diagnostics.js';

const SEEDS = [
  'BEGIN { printf("%d %s %x\\n", 42, "str", 255); exit(); }',
  'BEGIN { $x = 5; $y = $x * 3 + 2; printf("%d %d %d\\n", $y, $y / 4, -$y); exit(); }',
  'BEGIN { @a[1] = 10; @a[2] = 20; @s["foo"] = 1; @m[1, "a"] = 1; exit(); }',
  'BEGIN { @c = count(); @s = sum(5); @mn = min(3); @mx = max(9); @a = avg(4); @st = stats(10); exit(); }',
  'BEGIN { @h = hist(1000); @h2 = hist(5, 2); @l = lhist(15, 0, 100, 10); exit(); }',
  'BEGIN { $t = (1, "two", 3); printf("%d %s %d\\n", $t.0, $t.1, $t.2); @t = $t; exit(); }',
  'BEGIN { if (1 > 2) { printf("a\\n"); } else if (2 > 1) { printf("b\\n"); } else { printf("c\\n"); } exit(); }',
  'BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i == 6) { break; } } exit(); }',
  'BEGIN { $i = 0; unroll(5) { $i = $i + 2; } printf("%d\\n", $i); exit(); }',
  'BEGIN { for ($i : 0..3) { printf("i=%d\\n", $i); } exit(); }',
  'BEGIN { @m[1] = 10; @m[2] = 20; for ($kv : @m) { @s = sum($kv.1); } exit(); }',
  'begin { let $x = 5; let $y: uint8 = 200; { let $z = $x; } exit(); } end { printf("bye\\n"); }',
  'BEGIN { printf("%d %d\\n", curtask->pid == pid, ((struct task_struct *)curtask)->comm == comm); exit(); }',
  'BEGIN { printf("%d\\n", curtask->cpus_mask.bits[0] > 0); printf("%d\\n", sizeof(struct task_struct)); exit(); }',
  'struct pair { int a; int b; long c; }\nBEGIN { printf("%d %d\\n", sizeof(struct pair), offsetof(struct pair, c)); exit(); }',
  '#define LIMIT 3\n#define NAME "x"\nBEGIN { printf("%d %s\\n", LIMIT * 2, NAME); exit(); }',
  'config = { max_strlen = 8 } BEGIN { printf("%s\\n", str("abcdefghijkl")); exit(); }',
  'BEGIN { $x = 10; $x += 5; $x <<= 4; $x >>= 1; $x &= 0xff; $x |= 0x100; $x ^= 1; @x++; --@y[1]; @z *= 3; exit(); }',
  'BEGIN { printf("%d %d %d\\n", 1 && 0, 1 || 0, !1); $s = 1 ? "yes" : "no"; printf("%s\\n", $s); exit(); }',
  'BEGIN { printf("%s %s\\n", ntop(pton("127.0.0.1")), ntop(2, 0x0100a8c0)); printf("%x\\n", bswap((uint32)0x12345678)); exit(); }',
  'BEGIN { printf("%s|%s\\n", strerror(2), ksym(0)); cat("/proc/sys/kernel/%s", "ostype"); time("%Y\\n"); exit(); }',
  'BEGIN { @m[1] = 1; delete(@m[1]); delete(@m, 2); clear(@m); zero(@m); print(@m, 2, 10); exit(); }',
  'BEGIN { printf("%d %d\\n", strncmp("hello", "help", 3), strcontains("hello", "ll")); printf("%d\\n", strlen("abc")); exit(); }',
  'BEGIN { printf("%d %d %d\\n", has_key(@m, 1), nsecs(boot) > 0, jiffies > 0); @m[1] = 1; exit(3); }',
  'BEGIN { errorf("bad %d", 1); warnf("careful %s", "x"); printf("%r\\n", buf("abc", 2)); exit(); }',
  'BEGIN { printf("%s %d %d\\n", str($1), $2 + 1, $#); exit(); }',
  'interval:ms:50 { @n++; if (@n == 3) { exit(); } }',
  'i:s:1 { @n = count(); } END { print(@n); clear(@n); }',
  'tracepoint:syscalls:sys_enter_write /comm == "bpfkit_wl"/ { @h = hist(args->count); @b = buf(args->buf, args->count); }',
  'tracepoint:syscalls:sys_enter_execve { join(args->argv, ","); printf("%s\\n", str(args->filename)); }',
  'rawtracepoint:sys_enter /comm == "x"/ { if (arg1 == 110) { @ax[((struct pt_regs *)arg0)->orig_ax] = count(); } }',
  'tracepoint:syscalls:sys_enter_getppid { system("echo %d", 1); signal("SIGUSR1"); }',
  'BEGIN { $a = (uint8)300; $b = (int8)200; $c = (int32)0xffffffff; $p = (struct task_struct *)curtask; printf("%d\\n", $p->pid); exit(); }',
  'BEGIN { @x[(1, 2)] = (3, "x"); $m = macaddr("abcdefgh"); print($m); print((1, "a")); exit(); }',
  'BEGIN /1 == 1/ { printf("yes\\n"); @c++; } BEGIN /0/ { } END { printf("%d\\n", @c); }',
];

/** The words and symbols mutations draw from. */
const VOCAB = [
  'BEGIN', 'END', 'begin', 'tracepoint:syscalls:sys_enter_getppid', 'interval:ms:10', 'rawtracepoint:sys_enter', 'uprobe:/bin/sh:main',
  '{', '}', '(', ')', '[', ']', ';', ',', '.', '->', '..', ':', '/', '?', '=', '==', '!=', '<', '>', '<=', '>=', '+', '-', '*', '%',
  '&', '|', '^', '~', '!', '&&', '||', '<<', '>>', '++', '--', '+=', '<<=', '$x', '$y', '$1', '$#', '@', '@m', '@m[1]', '@h',
  '0', '1', '-1', '0xff', '255', '18446744073709551615', '99999999999999999999999', '"s"', '""', '"%d"', '"%s %d\\n"', '"%r"',
  'if', 'else', 'while', 'for', 'unroll', 'return', 'break', 'continue', 'let', 'config', 'struct', 'union', 'sizeof', 'offsetof',
  'struct task_struct', 'struct task_struct *', 'uint8', 'int64', 'string', 'char[4]', 'true', 'false',
  'pid', 'tid', 'comm', 'curtask', 'args', 'arg0', 'retval', 'probe', 'func', 'nsecs', 'cpu', 'ctx', 'kstack', 'ustack',
  'printf', 'print', 'count()', 'sum', 'hist', 'lhist', 'str', 'buf', 'join', 'exit()', 'clear', 'delete', 'has_key', 'ntop',
  'pton', 'strncmp', 'strcontains', 'bswap', 'kaddr', 'ksym', 'cat', 'time', 'strftime', 'len', 'macaddr', 'cgroup_path',
];

/** Same-class replacements keep programs parseable, so more of them reach the type pass and code generation. */
const CLASSES: { test: RegExp; pool: string[] }[] = [
  { test: /^\d/, pool: ['0', '1', '2', '7', '64', '100', '255', '-1', '0x7fffffffffffffff', '18446744073709551615', '1000000'] },
  { test: /^"/, pool: ['""', '"a"', '"%d"', '"%s"', '"%d %s\\n"', '"%r"', '"%c%x"', '"/etc/hostname"', '"127.0.0.1"', '"%%"'] },
  { test: /^\$\w/, pool: ['$x', '$y', '$t', '$i', '$kv', '$1', '$2', '$9'] },
  { test: /^@/, pool: ['@', '@m', '@x', '@h', '@c', '@s', '@a', '@t'] },
  {
    test: /^[a-z_]\w*$/,
    pool: [
      'pid', 'tid', 'uid', 'comm', 'curtask', 'nsecs', 'elapsed', 'cpu', 'rand', 'cgroup', 'probe', 'func', 'args', 'arg0', 'arg1',
      'retval', 'ctx', 'username', 'jiffies', 'ncpus', 'kstack', 'ustack', 'str', 'buf', 'count', 'sum', 'min', 'max', 'avg',
      'stats', 'hist', 'lhist', 'printf', 'print', 'exit', 'clear', 'zero', 'delete', 'has_key', 'len', 'join', 'ntop', 'pton',
      'bswap', 'ksym', 'usym', 'kaddr', 'strncmp', 'strcontains', 'strlen', 'strerror', 'macaddr', 'cgroup_path', 'time',
      'strftime', 'cat', 'signal', 'system', 'sizeof', 'offsetof', 'pid', 'comm', 'filename', 'count', 'tv_nsec', 'real_parent',
    ],
  },
];

/** mulberry32: small, seedable, and the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits a program into rough tokens (strings, words, numbers, operators, single characters). */
function tokens(src: string): string[] {
  return src.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_$@][\w$@:.\/*-]*|\d\w*|->|\.\.|[<>=!&|+\-*/%^]=?|\s+|./gs) ?? [];
}

function mutate(src: string, r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  let t = tokens(src);
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n && t.length; k++) {
    const i = Math.floor(r() * t.length);
    // Half the edits keep the syntax (same-class replacements), so the later passes see plenty.
    switch (r() < 0.5 ? 7 : Math.floor(r() * 9)) {
      case 0: t.splice(i, 1); break;
      case 1: t.splice(i, 0, t[i]); break;
      case 2: { const j = Math.floor(r() * t.length); [t[i], t[j]] = [t[j], t[i]]; break; }
      case 3: t[i] = pick(VOCAB); break;
      case 7: {
        // Replace some token with another of its class, several times over.
        for (let k2 = 0; k2 < 4; k2++) {
          const j = Math.floor(r() * t.length);
          const cls = CLASSES.find((c) => c.test.test(t[j]));
          if (cls) t[j] = pick(cls.pool);
        }
        break;
      }
      case 4: t.splice(i, 0, ' ', pick(VOCAB), ' '); break;
      case 5: t = t.slice(0, i); break;
      case 6: {
        const s = t.join('');
        const c = Math.floor(r() * (s.length + 1));
        t = tokens(s.slice(0, c) + pick(['{', '}', '(', ')', '"', ';', '\\', '\n', '#', '/', '*', '$', '@', '\t', 'é']) + s.slice(c));
        break;
      }
      default: {
        const s = t.join('');
        const c = Math.floor(r() * s.length);
        t = tokens(s.slice(0, c) + s.slice(c + 1));
      }
    }
  }
  return t.join('');
}

/** What the loader relies on: map references sit on LD_IMM64 instructions and every jump resolves. */
function checkCode(c: Compiled): void {
  for (const p of c.probes) {
    for (const r of p.code.relocs) {
      if (p.code.insns[r.index]?.code !== LD_IMM64_CODE) throw new Error(`relocation of ${r.map} at ${r.index} is not on a map load`);
    }
    assemble(p.code.insns);
  }
}

const ITERATIONS = Number(process.env.BPFKIT_FUZZ_ITERATIONS ?? 5000);
const SEED = Number(process.env.BPFKIT_FUZZ_SEED ?? 0xb9f);

test('fuzz: mutated programs fail only with CompileError', () => {
  const r = rng(SEED);
  const failures: string[] = [];
  let compiled = 0;
  const kinds = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = SEEDS[i % SEEDS.length];
    const src = i < SEEDS.length ? seed : mutate(seed, r);
    try {
      const c = compile(src, 'stdin', { positional: ['abc', '41'], unsafe: i % 2 === 0 });
      checkCode(c);
      compiled++;
    } catch (e) {
      if (e instanceof CompileError) {
        const k = /ERROR: (\S+ \S+)/.exec(e.message)?.[1] ?? '?';
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      if (!(e instanceof CompileError)) failures.push(`${JSON.stringify(src)}\n  -> ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`);
    }
  }
  if (process.env.BPFKIT_FUZZ_VERBOSE) console.log(compiled, [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 30));
  assert.deepEqual(failures, [], `${failures.length} programs crashed the compiler`);
  // The mutations must leave a fair share of programs valid, or the back end is barely exercised.
  assert.ok(compiled > ITERATIONS / 20, `only ${compiled} of ${ITERATIONS} programs compiled`);
});

test('fuzz: every seed program compiles', () => {
  for (const s of SEEDS) {
    if (s.includes('tracepoint:') && process.getuid?.() !== 0) continue;
    assert.doesNotThrow(() => compile(s, 'stdin', { positional: ['abc', '41'], unsafe: true }), s);
  }
});
