// The demangler against two oracles on real g++ output: binutils' c++filt
// (cxxfilt style) and libstdc++'s __cxa_demangle (the default, as bpftrace
// prints). Also C++-aware uprobe matching as bpftrace 0.17 does it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/fixtures.js';
import { openElf } from '../../src/symbols/elf.js';
import { demangle, demangleOrSelf } from '../../src/symbols/demangle.js';
import { matchFunctions, resolveUprobe } from '../../src/symbols/resolve.js';

const binDir = join(repoRoot, 'test/fixtures/bin');

/** Builds a fixture .c file as C++ (compileC only drives gcc as C). */
function compileCxx(name: string, out = name): string {
  mkdirSync(binDir, { recursive: true });
  const src = join(repoRoot, 'test/fixtures', `${name}.c`);
  const bin = join(binDir, out);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('g++', ['-x', 'c++', '-O1', '-g', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}

const cpp = compileCxx('sym_cpp');
const cxa = compileCxx('sym_cxa_demangle');

function oracle(cmd: string, names: string[]): string[] {
  return execFileSync(cmd, [], { input: `${names.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').slice(0, names.length);
}

function mangledIn(path: string, dynamic = false): string[] {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '--defined-only', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return [...new Set(out.split('\n').map((l) => l.split(' ').pop()!.replace(/@.*/, '')).filter((n) => n.startsWith('_Z')))].sort();
}

function compare(names: string[]): void {
  const filt = oracle('c++filt', names);
  const abi = oracle(cxa, names);
  const bad: string[] = [];
  names.forEach((n, i) => {
    const f = demangle(n, { cxxfilt: true }) ?? n;
    const a = demangle(n) ?? n;
    if (f !== filt[i]) bad.push(`${n}\n  c++filt: ${filt[i]}\n  ours:    ${f}`);
    if (a !== abi[i]) bad.push(`${n}\n  __cxa_demangle: ${abi[i]}\n  ours:           ${a}`);
  });
  assert.deepEqual(bad.slice(0, 5), []);
}

test('demangle: every C++ symbol of the g++-built fixture, both styles', () => {
  const names = mangledIn(cpp);
  assert.ok(names.length > 10);
  compare(names);
  const d = names.map((n) => demangle(n));
  for (const want of [
    'ns::Class::method(int) const',
    'ns::Class::method(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)',
    'int ns::Class::twice<int>(int)',
    'ns::Class::operator+=(int)',
    'ns::Class::operator==(ns::Class const&) const',
    '(anonymous namespace)::hidden(int)',
    'ns::free_function(std::vector<int, std::allocator<int> >&, char const*)',
  ]) assert.ok(d.includes(want), want);
});

test('demangle: libstdc++ exports, both styles', () => {
  compare(mangledIn('/usr/lib/x86_64-linux-gnu/libstdc++.so.6', true));
});

test('demangle: hand-picked forms', () => {
  const cases: [string, string][] = [
    ['_Z1fPVKi', 'f(int const volatile*)'],
    ['_Z3foov.isra.0.cold', 'foo() [clone .isra.0] [clone .cold]'],
    ['_ZN1AIiEltIiEEbv', 'bool A<int>::operator< <int>()'],
    ['_Z1fIJidEEvDpRKT_', 'void f<int, double>(int const&, double const&)'],
    ['_Z1fIJEEvDpT_', 'void f<>()'],
    ['_Z1fM1AKFvvE', 'f(void (A::*)() const)'],
    ['_Z1fPA5_i', 'f(int (*) [5])'],
    ['_Z1fA2_A3_i', 'f(int [2][3])'],
    ['_Z1fKPFviE', 'f(void (* const)(int))'],
    ['_Z1fM1Ai', 'f(int A::*)'],
    ['_ZNSsC1Ev', 'std::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string()'],
    ['_Z1fRSs', 'f(std::string&)'],
    ['_ZlsRSoRK1A', 'operator<<(std::ostream&, A const&)'],
    ['_Z1fIlLln5EEvv', 'void f<long, -5l>()'],
    ['_ZZ4mainENKUlvE_clEv', 'main::{lambda()#1}::operator()() const'],
    ['_ZNK5Class4nameB5cxx11Ev', 'Class::name[abi:cxx11]() const'],
    ['_ZTV3Foo', 'vtable for Foo'],
    ['_ZGVZ1fvE1x', 'guard variable for f()::x'],
    ['_ZThn8_N1B1fEv', 'non-virtual thunk to B::f()'],
    ['_Z1fPFPFivEiE', 'f(int (*(*)(int))())'],
    ['_ZNKSt8functionIFviEEclEi', 'std::function<void (int)>::operator()(int) const'],
    ['_Z1fIiEDTplfp_fp_ET_', 'decltype ({parm#1}+{parm#1}) f<int>(int)'],
    ['_Z1fRA10_Kc', 'f(char const (&) [10])'],
    ['_Znwm', 'operator new(unsigned long)'],
    ['_Z1fPDoFvvE', 'f(void (*)() noexcept)'],
    ['_Z1fIiEPFivEv', 'int (*f<int>())()'],
    ['_ZNKR1A1fEv', 'A::f() const &'],
  ];
  for (const [m, want] of cases) assert.equal(demangle(m), want, m);
  for (const bad of ['', 'main', '_Z', '_ZN3foo', '_Z1fIiEvT0_', '_Z3foov.', '_ZNK']) assert.equal(demangle(bad), null, bad);
  assert.equal(demangleOrSelf('malloc'), 'malloc');
});

test('uprobe matching: demangled spellings, with or without parameters, as bpftrace 0.17', () => {
  const mangled = openElf(cpp).findSymbol('_ZNK2ns5Class6methodEi')!;
  assert.deepEqual(matchFunctions(cpp, 'ns::Class::method(int) const'), ['_ZNK2ns5Class6methodEi']);
  assert.equal(matchFunctions(cpp, 'ns::Class::method').length, 2);
  assert.equal(matchFunctions(cpp, 'ns::Class::method*').length, 2);
  assert.deepEqual(matchFunctions(cpp, '*hidden*'), ['_ZN12_GLOBAL__N_16hiddenEi']);
  assert.ok(matchFunctions(cpp, '_ZN2ns*').length >= 5);
  const [t] = resolveUprobe(cpp, 'ns::Class::method(int) const');
  assert.equal(t.vaddr, mangled.addr);
  assert.throws(() => resolveUprobe(cpp, 'ns::Class::method'), /matches 2 functions/);
});
