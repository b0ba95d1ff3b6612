// USDT notes against `readelf -n`, every argument-spec form the compiler
// writes, and the x86_64 register tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { compileC, repoRoot } from '../lib/fixtures.js';
import { openElf } from '../../src/symbols/elf.js';
import { usdtNoteFrom } from '../../src/symbols/elfnotes.js';
import {
  ARG_OFFSETS, argOffset, parseUsdtArg, parseUsdtArgs, PT_REGS, reg, REG_NAMES, RETVAL_OFFSET, x86Register,
} from '../../src/symbols/usdt.js';
import { listUsdt, resolveUsdt } from '../../src/symbols/resolve.js';

const sema = join(repoRoot, 'test/fixtures/usdt_sema.c');
const bins = {
  O1: compileC('usdt_prog', [sema], 'usdt_prog'),
  O0: compileC('usdt_prog', [sema, '-O0'], 'usdt_prog_O0'),
  nopie: compileC('usdt_prog', [sema, '-no-pie', '-O2'], 'usdt_prog_nopie'),
};

interface RefNote {
  provider: string;
  name: string;
  pc: number;
  base: number;
  semaphore: number;
  args: string;
}

function readelfNotes(path: string): RefNote[] {
  const text = execFileSync('readelf', ['-nW', path], { encoding: 'utf8' });
  const out: RefNote[] = [];
  const re = /Provider: (\S+)\s+Name: (\S+)\s+Location: 0x([0-9a-f]+), Base: 0x([0-9a-f]+), Semaphore: 0x([0-9a-f]+)\s+Arguments: ([^\n]*)/g;
  for (const m of text.matchAll(re)) {
    out.push({ provider: m[1], name: m[2], pc: parseInt(m[3], 16), base: parseInt(m[4], 16), semaphore: parseInt(m[5], 16), args: m[6].trim() });
  }
  return out;
}

for (const [label, bin] of Object.entries(bins)) {
  test(`usdt ${label}: notes match readelf -n, file offsets match the segments`, () => {
    const e = openElf(bin);
    const ref = readelfNotes(bin);
    assert.equal(ref.length, 6);
    const got = e.usdtNotes().map(({ provider, name, pc, base, semaphore, args }) => ({ provider, name, pc, base, semaphore, args }));
    assert.deepEqual(got, ref);
    for (const n of e.usdtNotes()) {
      const seg = e.loads.find((p) => n.pc >= p.vaddr && n.pc < p.vaddr + p.memsz)!;
      assert.equal(n.pcOffset, n.pc - seg.vaddr + seg.offset);
      // A nop is where the note says the probe is.
      const b = execFileSync('od', ['-An', '-tx1', '-j', String(n.pcOffset), '-N', '1', bin], { encoding: 'utf8' }).trim();
      assert.equal(b, '90', `${n.name} pc is a nop`);
      for (const a of parseUsdtArgs(n.args)) assert.ok(a.size > 0);
    }
    const s = e.usdtNotes().find((n) => n.name === 'sema_probe')!;
    assert.equal(s.semaphore, e.findSymbol('usdtprov_sema_probe_semaphore')?.addr);
    const probes = e.section('.probes')!;
    assert.equal(s.semaphoreOffset, probes.offset + (s.semaphore - probes.addr));
    assert.equal(e.usdtNotes().find((n) => n.name === 'two_args')!.semaphoreOffset, null);
  });
}

test('usdt: listing and wildcard resolution like bpftrace -l', () => {
  assert.deepEqual(listUsdt(bins.O1), [
    'usdtprov:constant', 'usdtprov:global', 'usdtprov:indexed', 'usdtprov:sema_probe', 'usdtprov:three_args', 'usdtprov:two_args',
  ]);
  assert.deepEqual(resolveUsdt(bins.O1, 'usdtprov', 't*').map((r) => r.note.name).sort(), ['three_args', 'two_args']);
  assert.equal(resolveUsdt(bins.O1, '*', '*').length, 6);
  assert.equal(resolveUsdt(bins.O1, 'nope', '*').length, 0);
});

test('usdt: .stapsdt.base moves pc by the difference, semaphore as recorded', () => {
  const desc = Buffer.alloc(24 + 11);
  desc.writeUInt32LE(0x1100, 0);
  desc.writeUInt32LE(0x2000, 8);
  desc.writeUInt32LE(0x4010, 16);
  desc.write('p\0n\0-4@%edi\0', 24, 'latin1');
  assert.deepEqual(usdtNoteFrom(desc, 0x2100), {
    provider: 'p', name: 'n', pc: 0x1200, base: 0x2000, semaphore: 0x4010, args: '-4@%edi', pcOffset: null, semaphoreOffset: null,
  });
  assert.equal(usdtNoteFrom(desc, null)?.pc, 0x1100);
});

test('usdt args: registers of every width with pt_regs offsets', () => {
  const a = parseUsdtArg('-4@%edi');
  assert.equal(a.size, 4);
  assert.equal(a.signed, true);
  assert.equal(a.float, false);
  assert.deepEqual(a.location, { kind: 'register', reg: { name: 'edi', full: 'rdi', offset: 112, size: 4, highByte: false } });
  const b = parseUsdtArg('8@%rax');
  assert.equal(b.signed, false);
  assert.equal(b.location.kind === 'register' && b.location.reg.offset, 80);
  const c = parseUsdtArg('-1@%r9b');
  assert.ok(c.location.kind === 'register' && c.location.reg.offset === 64 && c.location.reg.size === 1);
  const d = parseUsdtArg('1@%ah');
  assert.ok(d.location.kind === 'register' && d.location.reg.highByte && d.location.reg.offset === 80);
  assert.equal(parseUsdtArg('-8f@%xmm0').location.kind, 'unsupported-register');
  assert.equal(parseUsdtArg('-8f@%xmm0').float, true);
  assert.throws(() => parseUsdtArg('4@%bogus'), /unknown register/);
});

test('usdt args: memory, constants, rip-relative and indexed forms', () => {
  assert.deepEqual(parseUsdtArg('8@-16(%rbp)').location, {
    kind: 'memory', base: { name: 'rbp', full: 'rbp', offset: 32, size: 8, highByte: false }, index: null, scale: 1, disp: -16n, symbol: null,
  });
  assert.deepEqual(parseUsdtArg('-8@(%rax)').location, {
    kind: 'memory', base: { name: 'rax', full: 'rax', offset: 80, size: 8, highByte: false }, index: null, scale: 1, disp: 0n, symbol: null,
  });
  assert.deepEqual(parseUsdtArg('4@$5').location, { kind: 'constant', value: 5n });
  assert.deepEqual(parseUsdtArg('-4@$-5').location, { kind: 'constant', value: -5n });
  assert.deepEqual(parseUsdtArg('8@$0x10').location, { kind: 'constant', value: 16n });
  assert.deepEqual(parseUsdtArg('-4@usdt_global(%rip)').location, { kind: 'rip', symbol: 'usdt_global', disp: 0n });
  assert.deepEqual(parseUsdtArg('8@tbl+16(%rip)').location, { kind: 'rip', symbol: 'tbl', disp: 16n });
  const ix = parseUsdtArg('-4@8(%rdi,%rsi,4)').location;
  assert.ok(ix.kind === 'memory');
  assert.equal(ix.base?.offset, 112);
  assert.equal(ix.index?.offset, 104);
  assert.equal(ix.scale, 4);
  assert.equal(ix.disp, 8n);
  const noBase = parseUsdtArg('1@(,%rcx,8)').location;
  assert.ok(noBase.kind === 'memory' && noBase.base === null && noBase.index?.full === 'rcx' && noBase.scale === 8);
  assert.throws(() => parseUsdtArg('4@8(%rdi,%rsi,3)'), /bad scale/);
  assert.throws(() => parseUsdtArg('nonsense'), /SIZE@OPERAND/);
  // Old sdt.h: a bare operand, width from the register.
  assert.equal(parseUsdtArg('%eax').size, 4);
});

test('usdt args: every spec the fixtures contain parses, with the sizes written', () => {
  const seen = new Set<string>();
  for (const bin of Object.values(bins)) {
    for (const n of openElf(bin).usdtNotes()) {
      const args = parseUsdtArgs(n.args);
      assert.equal(args.map((a) => a.text).join(' '), n.args);
      for (const a of args) seen.add(a.location.kind);
    }
  }
  for (const k of ['register', 'memory', 'constant', 'rip']) assert.ok(seen.has(k), k);
  assert.deepEqual(parseUsdtArgs('-4@%edi 8@%rax').map((a) => a.size), [4, 8]);
  assert.deepEqual(parseUsdtArgs('').length, 0);
});

test('regs: pt_regs layout, argument registers and reg() names', () => {
  assert.deepEqual(Object.entries(PT_REGS).map(([k, v]) => `${k}:${v}`).join(' '),
    'r15:0 r14:8 r13:16 r12:24 bp:32 bx:40 r11:48 r10:56 r9:64 r8:72 ax:80 cx:88 dx:96 si:104 di:112 orig_ax:120 ip:128 cs:136 flags:144 sp:152 ss:160');
  assert.deepEqual(ARG_OFFSETS, [112, 104, 96, 88, 72, 64]);
  assert.equal(argOffset(6), undefined);
  assert.equal(RETVAL_OFFSET, 80);
  assert.equal(reg('ip'), 128);
  assert.equal(reg('rax'), undefined);
  assert.equal(REG_NAMES.length, 21);
  for (const [name, full, size] of [['eax', 'rax', 4], ['ax', 'rax', 2], ['al', 'rax', 1], ['r8d', 'r8', 4], ['r8w', 'r8', 2], ['r8b', 'r8', 1], ['sil', 'rsi', 1], ['%rsp', 'rsp', 8], ['rip', 'rip', 8]] as const) {
    const r = x86Register(name);
    assert.equal(r?.full, full, name);
    assert.equal(r?.size, size, name);
  }
});
