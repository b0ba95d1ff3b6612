// The DWARF reader against binutils: every DIE readelf --debug-dump=info
// prints for fixtures built with DWARF 4, DWARF 5 and compressed sections
// must decode to the same tag, name, type reference, size and children;
// functions and parameters are found as libdw finds them; type names are
// spelled as bpftrace 0.17 spells them; and a lookup in a big binary reads
// only the unit that holds the function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openElf, elfFromBuffer } from '../../src/symbols/elf.js';
import { DW_AT, DW_TAG, Dwarf, dwarfOf, functionParams, paramListing } from '../../src/symbols/dwarf.js';
import { uprobeArgs } from '../../src/probes/uprobe-args.js';
import { compileC, repoRoot } from '../lib/fixtures.js';
import { readFileSync } from 'node:fs';

const BUILDS: [string, string[]][] = [
  ['dwarf_args_d5', ['-gdwarf-5']],
  ['dwarf_args_d4', ['-gdwarf-4']],
  ['dwarf_args_z', ['-gdwarf-5', '-gz=zlib']],
  ['dwarf_args_d4_O2', ['-gdwarf-4', '-O2']],
];
const bin = (out: string, flags: string[]) => compileC('dwarf_args', flags, out);

interface RDie {
  offset: number;
  depth: number;
  tag: string;
  attrs: Map<string, string>;
  children: number[];
}

/** readelf --debug-dump=info, as DIEs by offset with their attributes' printed values. */
function readelfDies(path: string): Map<number, RDie> {
  const text = execFileSync('readelf', ['--debug-dump=info', '-wN', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const dies = new Map<number, RDie>();
  const stack: RDie[] = [];
  let cur: RDie | undefined;
  for (const line of text.split('\n')) {
    const m = /^ <(\d+)><([0-9a-f]+)>: Abbrev Number: (\d+)(?: \((\w+)\))?/.exec(line);
    if (m) {
      const depth = Number(m[1]);
      if (m[3] === '0') {
        cur = undefined;
        continue;
      }
      cur = { offset: parseInt(m[2], 16), depth, tag: m[4], attrs: new Map(), children: [] };
      stack.length = depth;
      if (depth > 0 && stack[depth - 1]) stack[depth - 1].children.push(cur.offset);
      stack[depth] = cur;
      dies.set(cur.offset, cur);
      continue;
    }
    const a = /^ {4}<[0-9a-f]+> +(DW_AT_\w+) *: (.*)$/.exec(line);
    if (a && cur) cur.attrs.set(a[1], a[2].replace(/^\((?:indirect (?:line )?string, offset: (?:0x)?[0-9a-f]+|indexed string: (?:0x)?[0-9a-f]+)\): /, '').trimEnd());
  }
  return dies;
}

const TAG_CODES: Record<string, number> = Object.fromEntries(Object.entries(DW_TAG).map(([k, v]) => [`DW_TAG_${k}`, v]));

for (const [out, flags] of BUILDS) {
  test(`every DIE of ${out} decodes as readelf prints it`, () => {
    const path = bin(out, flags);
    const d = dwarfOf(openElf(path))!;
    assert.ok(d, 'has DWARF');
    const ref = readelfDies(path);
    assert.ok(ref.size > 100);
    const version = Number(/Version: +(\d+)/.exec(execFileSync('readelf', ['--debug-dump=info', path], { encoding: 'utf8' }))![1]);
    assert.equal(d.units()[0].version, version);
    assert.equal(version, flags.includes('-gdwarf-4') ? 4 : 5);
    let checked = 0;
    for (const r of ref.values()) {
      const die = d.dieAt(r.offset)!;
      assert.ok(die, `DIE at 0x${r.offset.toString(16)}`);
      if (TAG_CODES[r.tag] !== undefined) assert.equal(die.tag, TAG_CODES[r.tag], `tag at 0x${r.offset.toString(16)}`);
      const name = r.attrs.get('DW_AT_name');
      if (name !== undefined) assert.equal(d.str(die, DW_AT.name), name, `name at 0x${r.offset.toString(16)}`);
      const type = r.attrs.get('DW_AT_type');
      if (type !== undefined) assert.equal(d.ref(die, DW_AT.type)?.offset, parseInt(/<0x([0-9a-f]+)>/.exec(type)![1], 16));
      const size = r.attrs.get('DW_AT_byte_size');
      if (size !== undefined && /^\d+$/.test(size)) assert.equal(d.num(die, DW_AT.byte_size), Number(size));
      const ub = r.attrs.get('DW_AT_upper_bound');
      if (ub !== undefined && /^\d+$/.test(ub)) assert.equal(d.num(die, DW_AT.upper_bound), Number(ub));
      const ml = r.attrs.get('DW_AT_data_member_location');
      if (ml !== undefined && /^\d+$/.test(ml)) assert.equal(d.memberOffset(die), Number(ml));
      assert.deepEqual(d.children(die).map((c) => c.offset), r.children, `children of 0x${r.offset.toString(16)}`);
      checked++;
    }
    assert.equal(checked, ref.size);
  });

  test(`functions and parameters of ${out} are found by name, through abstract origins`, () => {
    const path = bin(out, flags);
    const elf = openElf(path);
    const d = dwarfOf(elf)!;
    const ref = readelfDies(path);
    const params = (name: string) => functionParams(d, name, elf.findSymbol(name)?.addr)?.map((p) => p.name);
    assert.deepEqual(params('da_ints'), ['a', 'b', 'c', 'd', 'e', 'g']);
    assert.deepEqual(params('da_ptrs'), ['s', 'r', 'm', 'n', 'ok', 'opaque']);
    assert.deepEqual(params('da_many'), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8']);
    assert.deepEqual(params('main'), []);
    assert.equal(functionParams(d, 'no_such_function'), null);
    // The function readelf shows first under that name (libdw's order) is the one found.
    for (const name of ['da_ints', 'da_both', 'da_after_struct']) {
      const first = [...ref.values()].find(
        (r) => r.tag === 'DW_TAG_subprogram' && !r.attrs.has('DW_AT_declaration') && nameOf(ref, r) === name,
      );
      assert.equal(d.findFunction(name)?.offset, first?.offset, name);
    }
    // Concrete out-of-line copies name their parameters through DW_AT_abstract_origin.
    for (const r of ref.values()) {
      if (r.tag !== 'DW_TAG_subprogram' || !r.attrs.has('DW_AT_abstract_origin') || !r.attrs.has('DW_AT_low_pc')) continue;
      const die = d.dieAt(r.offset)!;
      assert.equal(d.name(die), nameOf(ref, r));
      const ps = d.params(die);
      assert.deepEqual(ps.map((p) => d.name(p)), r.children.map((c) => ref.get(c)!).filter((c) => c.tag === 'DW_TAG_formal_parameter').map((c) => nameOf(ref, c)));
    }
  });

  test(`-lv parameter lines of ${out} spell types as bpftrace 0.17`, () => {
    const path = bin(out, flags);
    const elf = openElf(path);
    const d = dwarfOf(elf)!;
    const lv = (name: string) => paramListing(d, name, elf.findSymbol(name)?.addr);
    assert.deepEqual(lv('da_ptrs'), ['    const char* s', '    const rec_t* r', '    enum mode m', '    counter_t n', '    _Bool ok', '    void* opaque']);
    assert.deepEqual(lv('da_u64'), ['    long long unsigned int big', '    long long int neg', '    short unsigned int us']);
    assert.deepEqual(lv('da_after_struct'), ['    int first', '    struct pair p', '    int after', '    const char* label']);
    assert.deepEqual(lv('da_both'), ['    int v', '    long int w']);
  });
}

function nameOf(ref: Map<number, RDie>, r: RDie): string | undefined {
  for (let x: RDie | undefined = r, i = 0; x && i < 8; i++) {
    const n = x.attrs.get('DW_AT_name');
    if (n !== undefined) return n;
    const o: string | undefined = x.attrs.get('DW_AT_abstract_origin') ?? x.attrs.get('DW_AT_specification');
    x = o ? ref.get(parseInt(/<0x([0-9a-f]+)>/.exec(o)![1], 16)) : undefined;
  }
  return undefined;
}

test('compressed sections decode to the bytes objcopy --decompress-debug-sections gives', () => {
  const path = bin('dwarf_args_z', ['-gdwarf-5', '-gz=zlib']);
  const z = openElf(path);
  assert.ok(z.section('.debug_info')!.flags & 0x800, 'built with SHF_COMPRESSED');
  const plainPath = `${path}.plain`;
  execFileSync('objcopy', ['--decompress-debug-sections', path, plainPath]);
  const plain = openElf(plainPath);
  assert.equal(plain.section('.debug_info')!.flags & 0x800, 0);
  for (const s of ['.debug_info', '.debug_abbrev', '.debug_str', '.debug_line_str']) {
    assert.deepEqual(new Dwarf(z).section(s), new Dwarf(plain).section(s), s);
  }
});

test('type names for qualifiers, anonymous and unknown types, as bpftrace 0.17 prints them', () => {
  const dir = join(repoRoot, 'test/fixtures/bin');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'dwarf_names.c');
  const out = join(dir, 'dwarf_names');
  writeFileSync(
    src,
    `struct S { int a; };
typedef struct { int q; } anon_t;
int g1(const void *cv, volatile int *vi, int (*fp)(int), struct { int z; } *an, anon_t *at, const int ci, int *restrict rp) { return ci; }
int g3(const struct S *const *p, unsigned long long *const q, _Bool b, __int128 i, unsigned __int128 u) { return b; }
int g4(enum { A, B } e, union { int i; } *up, float _Complex c, char s[10], long double ld) { return e; }
int main(void) { return 0; }
`,
  );
  execFileSync('gcc', ['-g', '-w', '-o', out, src]);
  const elf = openElf(out);
  const d = dwarfOf(elf)!;
  // Captured from bpftrace 0.17 -lv on this source.
  assert.deepEqual(paramListing(d, 'g1'), [
    '    const <unknown type>* cv',
    '    <unknown type>* vi',
    '    <unknown type>* fp',
    '    struct <anonymous>* an',
    '    anon_t* at',
    '    const int ci',
    '    <unknown type> rp',
  ]);
  assert.deepEqual(paramListing(d, 'g3'), [
    '    const struct S* const* p',
    '    long long unsigned int* const q',
    '    _Bool b',
    '    __int128 i',
    '    __int128 unsigned u',
  ]);
  assert.deepEqual(paramListing(d, 'g4'), ['    enum <anonymous> e', '    union <anonymous>* up', '    complex float c', '    char* s', '    long double ld']);
});

test('args: registers by the System V ABI, reasons for parameters registers do not hold', () => {
  const path = bin('dwarf_args_d5', ['-gdwarf-5']);
  const elf = openElf(path);
  const args = (f: string) => uprobeArgs(elf, f, elf.findSymbol(f)?.addr, path).fields!;
  const offs = (f: string) => args(f).map((a) => (a.error ? a.error : `${a.read.kind === 'ctx' ? a.read.off : '?'}/${a.read.kind === 'ctx' ? a.read.size : '?'}${a.read.kind === 'ctx' && a.read.signed ? 's' : 'u'}`));
  // rdi rsi rdx rcx r8 r9 = 112 104 96 88 72 64
  assert.deepEqual(offs('da_ints'), ['112/4s', '104/8s', '96/4u', '88/2s', '72/1s', '64/1u']);
  const dbl = offs('da_after_double');
  assert.match(dbl[0], /x has unsupported type/);
  assert.deepEqual([dbl[1], dbl[3]], ['112/4s', '104/8s']);
  const st = offs('da_after_struct');
  assert.equal(st[0], '112/4s');
  assert.match(st[1], /p has unsupported type: struct pair is passed by value/);
  // struct pair took rsi and rdx.
  assert.deepEqual([st[2], st[3]], ['88/4s', '72/8u']);
  const many = offs('da_many');
  assert.equal(many[5], '64/4s');
  assert.match(many[6], /stack-passed arguments \(a7 is passed on the stack\)/);
  const ptrs = args('da_ptrs');
  assert.equal(ptrs[1].ty.k, 'ptr');
  const rec = ptrs[1].ty.k === 'ptr' ? ptrs[1].ty.to : undefined;
  assert.equal(rec?.name, 'struct rec');
  assert.ok(rec?.user, 'pointee is user memory');
  const members = rec!.members!();
  assert.deepEqual(members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize]), [
    ['id', 0, undefined, undefined],
    ['total', 8, undefined, undefined],
    ['name', 16, undefined, undefined],
    ['flag', 32, 0, 3],
    ['level', 32, 3, 5],
    ['next', 40, undefined, undefined],
  ]);
  assert.equal(ptrs[2].ty.k === 'int' && ptrs[2].ty.signed, false, 'enums are unsigned, as in bpftrace 0.17');
  const nodebug = compileC('dwarf_args', ['-g0'], 'dwarf_args_g0');
  assert.equal(uprobeArgs(openElf(nodebug), 'da_ints', undefined, nodebug).error, `No debuginfo found for ${nodebug}`);
});

test('a lookup in a big binary reads one unit; misses fall back to walking every unit once', (t) => {
  const dir = join(repoRoot, 'test/fixtures/bin/dwarf_big');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'big');
  const UNITS = 40;
  const FUNCS = 250;
  if (!existsSync(out)) {
    const srcs: string[] = [];
    for (let u = 0; u < UNITS; u++) {
      let c = `struct s${u} { int a; long b; char name[8]; };\n`;
      for (let f = 0; f < FUNCS; f++) c += `long big_${u}_${f}(int a, struct s${u} *p, const char *s) { return a + p->b + s[0] + ${f}; }\n`;
      const p = join(dir, `u${u}.c`);
      writeFileSync(p, c);
      srcs.push(p);
    }
    writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-O1', '-g', '-o', out, join(dir, 'main.c'), ...srcs]);
  }
  // A fresh reader each time (openElf caches per file).
  const fresh = () => elfFromBuffer(out, readFileSync(out));
  let elf = fresh();
  let d = dwarfOf(elf)!;
  const name = `big_${UNITS - 3}_${FUNCS - 7}`;
  const addr = elf.findSymbol(name)!.addr;
  const t0 = performance.now();
  const lines = paramListing(d, name, addr);
  const one = performance.now() - t0;
  assert.deepEqual(lines, ['    int a', `    struct s${UNITS - 3}* p`, '    const char* s']);
  assert.equal(d.stats.unitsWalked, 1, 'only the unit holding the function');
  const oneDies = d.stats.diesDecoded;
  assert.ok(oneDies < 2000, `${oneDies} DIEs decoded`);

  elf = fresh();
  d = dwarfOf(elf)!;
  const t1 = performance.now();
  assert.deepEqual(paramListing(d, 'not_in_dwarf'), []);
  const all = performance.now() - t1;
  assert.equal(d.stats.unitsWalked, d.units().length);
  t.diagnostic(`${d.units().length} units, ${d.section('.debug_info')!.length} bytes of .debug_info: one function ${one.toFixed(1)} ms (${oneDies} DIEs), a miss walking all ${all.toFixed(1)} ms (${d.stats.diesDecoded} DIEs)`);
  // After the walk every function is indexed: further lookups decode nothing new.
  const before = d.stats.diesDecoded;
  assert.deepEqual(paramListing(d, 'big_0_0'), ['    int a', '    struct s0* p', '    const char* s']);
  assert.ok(d.stats.diesDecoded - before < 20);
});

test('without .debug_aranges the units\' own ranges (low/high pc, .debug_ranges, .debug_rnglists) find the unit', () => {
  const dir = join(repoRoot, 'test/fixtures/bin/dwarf_big');
  const big = join(dir, 'big');
  for (const [tag, flags] of [
    ['d5', ['-gdwarf-5', '-O2']],
    ['d4', ['-gdwarf-4', '-O2']],
    ['d5O1', ['-gdwarf-5']],
  ] as const) {
    const src = bin(`dwarf_args_noar_${tag}`, [...flags]);
    const out = `${src}.noaranges`;
    execFileSync('objcopy', ['--remove-section=.debug_aranges', src, out]);
    const elf = elfFromBuffer(out, readFileSync(out));
    assert.equal(elf.section('.debug_aranges'), undefined);
    const d = new Dwarf(elf);
    assert.ok(d.aranges().length > 0, `${tag}: ranges from the unit`);
    assert.deepEqual(paramListing(d, 'da_ints', elf.findSymbol('da_ints')!.addr), ['    int a', '    long int b', '    unsigned int c', '    short int d', '    signed char e', '    unsigned char g']);
    assert.equal(d.stats.unitsWalked, 1, tag);
  }
  // The many-unit binary: one unit walked as with .debug_aranges.
  const out = `${big}.noaranges`;
  execFileSync('objcopy', ['--remove-section=.debug_aranges', big, out]);
  const elf = elfFromBuffer(out, readFileSync(out));
  const d = new Dwarf(elf);
  assert.deepEqual(paramListing(d, 'big_20_20', elf.findSymbol('big_20_20')!.addr), ['    int a', '    struct s20* p', '    const char* s']);
  assert.equal(d.stats.unitsWalked, 1);
});

test('C++: out-of-line member functions are named through DW_AT_specification, found inside namespaces', () => {
  const dir = join(repoRoot, 'test/fixtures/bin');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'dwarf_cxx.cc');
  const out = join(dir, 'dwarf_cxx');
  writeFileSync(
    src,
    `namespace ns { struct A { int v; int m(int x, const char *why); static long s(long q); }; }
int ns::A::m(int x, const char *why) { return v + x + why[0]; }
long ns::A::s(long q) { return q * 2; }
int main() { ns::A a{1}; return a.m(2, "x") + (int)ns::A::s(3); }
`,
  );
  execFileSync('g++', ['-g', '-O1', '-o', out, src]);
  const d = dwarfOf(openElf(out))!;
  const m = d.findFunction('m')!;
  assert.ok(d.has(m, DW_AT.specification) && !d.has(m, DW_AT.name), 'the definition names its declaration');
  assert.deepEqual(paramListing(d, 'm'), ['    struct A* const this', '    int x', '    const char* why']);
  assert.deepEqual(paramListing(d, 's'), ['    long int q']);
  assert.deepEqual(paramListing(d, 'main'), []);
});

test('corrupted DWARF gives errors or nothing, never hangs or escapes as a crash', () => {
  const path = bin('dwarf_args_d5', ['-gdwarf-5']);
  const orig = readFileSync(path);
  const info = openElf(path).section('.debug_info')!;
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let i = 0; i < 300; i++) {
    const buf = Buffer.from(orig);
    for (let k = 0; k < 1 + rand(8); k++) buf[info.offset + rand(info.size)] = rand(256);
    const elf = elfFromBuffer(`${path}#${i}`, buf);
    const r = uprobeArgs(elf, 'da_ptrs', elf.findSymbol('da_ptrs')?.addr, path);
    assert.ok(r.fields || /^Cannot read debuginfo of /.test(r.error ?? ''), r.error);
    // Types are decoded lazily: walking them must not throw either.
    for (const f of r.fields ?? []) {
      const to = f.ty.k === 'ptr' ? f.ty.to : undefined;
      to?.members?.().forEach((m) => m.type.name);
    }
    try {
      paramListing(new Dwarf(elf), 'da_ints');
    } catch (e) {
      assert.ok(e instanceof Error);
    }
  }
});
