import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/bpf/asm/all.js';
import type { AluOp, Insn, JmpOp, Size } from '../../src/bpf/asm/all.js';

const { R0, R1, R2, R3, R4, R6, R7, R9, R10 } = A;

const hex = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
/** Encoding of an instruction without a target, as bytes. */
const enc = (insn: Insn): string => hex(A.assemble([insn]).bytes);

// Expected bytes are derived by hand from the uapi layout:
// code | dst:4 (low) src:4 (high) | off s16 LE | imm s32 LE.
test('encodings of one instruction of every class', () => {
  const cases: [Insn, string][] = [
    // ALU64 / ALU
    [A.mov64Reg(R6, R1), 'bf 16 00 00 00 00 00 00'],
    [A.mov64Imm(R1, 0), 'b7 01 00 00 00 00 00 00'],
    [A.mov64Imm(R1, -1), 'b7 01 00 00 ff ff ff ff'],
    [A.mov32Imm(R3, 0xffffffff), 'b4 03 00 00 ff ff ff ff'],
    [A.mov32Reg(R4, R3), 'bc 34 00 00 00 00 00 00'],
    [A.alu64Imm('add', R2, -24), '07 02 00 00 e8 ff ff ff'],
    [A.alu64Reg('add', R0, R1), '0f 10 00 00 00 00 00 00'],
    [A.alu32Reg('add', R1, R2), '0c 21 00 00 00 00 00 00'],
    [A.alu32Imm('lsh', R1, 3), '64 01 00 00 03 00 00 00'],
    [A.alu64Imm('rsh', R0, 32), '77 00 00 00 20 00 00 00'],
    [A.alu64Imm('arsh', R2, 56), 'c7 02 00 00 38 00 00 00'],
    [A.alu64Imm('sdiv', R1, 3), '37 01 01 00 03 00 00 00'],
    [A.alu32Reg('smod', R1, R2), '9c 21 01 00 00 00 00 00'],
    [A.alu64Imm('neg', R1, 0), '87 01 00 00 00 00 00 00'],
    [A.neg64(R1), '87 01 00 00 00 00 00 00'],
    [A.neg32(R1), '84 01 00 00 00 00 00 00'],
    [A.movsx64(R1, R2, 8), 'bf 21 08 00 00 00 00 00'],
    [A.movsx64(R1, R2, 32), 'bf 21 20 00 00 00 00 00'],
    [A.movsx32(R1, R2, 16), 'bc 21 10 00 00 00 00 00'],
    [A.endian('be', R1, 16), 'dc 01 00 00 10 00 00 00'],
    [A.endian('le', R1, 32), 'd4 01 00 00 20 00 00 00'],
    [A.endian('bswap', R1, 64), 'd7 01 00 00 40 00 00 00'],
    // LDX / ST / STX
    [A.ldx('w', R0, R2, 0), '61 20 00 00 00 00 00 00'],
    [A.ldx('dw', R1, R0, 8), '79 01 08 00 00 00 00 00'],
    [A.ldx('b', R1, R6, -1), '71 61 ff ff 00 00 00 00'],
    [A.ldx('h', R1, R6, 2), '69 61 02 00 00 00 00 00'],
    [A.ldxs('b', R0, R1, 0), '91 10 00 00 00 00 00 00'],
    [A.ldxs('h', R0, R1, 0), '89 10 00 00 00 00 00 00'],
    [A.ldxs('w', R0, R1, 4), '81 10 04 00 00 00 00 00'],
    [A.stx('dw', R10, -24, R1), '7b 1a e8 ff 00 00 00 00'],
    [A.stx('w', R10, -4, R0), '63 0a fc ff 00 00 00 00'],
    [A.st('w', R10, -4, 5), '62 0a fc ff 05 00 00 00'],
    [A.st('b', R10, -1, -3), '72 0a ff ff fd ff ff ff'],
    [A.atomic('dw', 'add', R1, 0, R2), 'db 21 00 00 00 00 00 00'],
    [A.atomic('dw', 'add', R1, 0, R2, true), 'db 21 00 00 01 00 00 00'],
    [A.atomic('w', 'or', R1, 8, R2, true), 'c3 21 08 00 41 00 00 00'],
    [A.atomic('w', 'xchg', R1, 0, R2), 'c3 21 00 00 e1 00 00 00'],
    [A.atomic('dw', 'cmpxchg', R1, 0, R2), 'db 21 00 00 f1 00 00 00'],
    [A.loadAcquire('b', R3, R10, -8), 'd3 a3 f8 ff 00 01 00 00'],
    [A.storeRelease('dw', R10, -8, R3), 'db 3a f8 ff 10 01 00 00'],
    // LD
    [A.ldMapFd(R1, 0x3a), '18 11 00 00 3a 00 00 00 00 00 00 00 00 00 00 00'],
    [A.ldMapValue(R4, 5, 16), '18 24 00 00 05 00 00 00 00 00 00 00 10 00 00 00'],
    [A.ldImm64(R3, 0x123456789abcdef0n), '18 03 00 00 f0 de bc 9a 00 00 00 00 78 56 34 12'],
    [A.ldImm64(R1, -1), '18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
    [A.ldAbs('b', 12), '30 00 00 00 0c 00 00 00'],
    [A.ldInd('h', R7, 3), '48 70 00 00 03 00 00 00'],
    // JMP / JMP32 (no targets here)
    [A.call('get_current_pid_tgid'), '85 00 00 00 0e 00 00 00'],
    [A.call(1), '85 00 00 00 01 00 00 00'],
    [A.call('bpf_ringbuf_output'), '85 00 00 00 82 00 00 00'],
    [A.callKfunc(1234), '85 20 00 00 d2 04 00 00'],
    [A.exit(), '95 00 00 00 00 00 00 00'],
  ];
  for (const [insn, bytes] of cases) assert.equal(enc(insn), bytes, A.formatInsn(insn));
});

test('jump encodings carry the resolved offset', () => {
  const asm = A.assemble([
    A.jmpImm('jge', R0, 1, 'x'), A.jmpReg('jsgt', R1, R2, 'x'), A.jmp32Imm('jne', R1, -1, 'x'),
    A.jmp32Reg('jsle', R1, R2, 'x'), A.ja('x'), A.mayGoto('x'), A.ja32('x'), A.callLocal('x'), A.label('x'), A.exit(),
  ]);
  const slots = Array.from({ length: asm.slots }, (_, i) => hex(asm.bytes.subarray(i * 8, i * 8 + 8)));
  assert.deepEqual(slots, [
    '35 00 07 00 01 00 00 00',
    '6d 21 06 00 00 00 00 00',
    '56 01 05 00 ff ff ff ff',
    'de 21 04 00 00 00 00 00',
    '05 00 03 00 00 00 00 00',
    'e5 00 02 00 00 00 00 00',
    '06 00 00 00 01 00 00 00',
    '85 10 00 00 00 00 00 00',
    '95 00 00 00 00 00 00 00',
  ]);
});

test('labels resolve forward, backward and across LD_IMM64', () => {
  const prog = [
    A.label('top'),
    A.mov64Imm(R0, 0), // 0
    A.jmpImm('jeq', R1, 0, 'end'), // 1 -> 6: off 4
    A.ldImm64(R2, 1n << 40n), // 2,3
    A.ldMapFd(R3, 7), // 4,5
    A.label('end'),
    A.label('also_end'),
    A.jmpReg('jne', R1, R2, 'top'), // 6 -> 0: off -7
    A.ja('also_end'), // 7 -> 6: off -2
    A.ldFunc(R4, 'fn'), // 8,9 -> 11: imm 2, counted like a call from slot 8 (i + imm + 1)
    A.exit(), // 10
    A.label('fn'),
    A.exit(), // 11
  ];
  const asm = A.assemble(prog);
  assert.equal(asm.slots, 12);
  assert.equal(asm.bytes.length, 96);
  assert.equal(asm.insnAtSlot[1]!.off, 4);
  assert.equal(asm.insnAtSlot[6]!.off, -7);
  assert.equal(asm.insnAtSlot[7]!.off, -2);
  assert.equal(asm.insnAtSlot[8]!.imm, 2);
  assert.equal(asm.insnAtSlot[3], undefined, 'second half of LD_IMM64 has no Insn');
  assert.equal(asm.insnAtSlot[5], undefined);
  assert.equal(hex(asm.bytes.subarray(8, 16)), '15 01 04 00 00 00 00 00');
  assert.equal(hex(asm.bytes.subarray(64, 80)), '18 44 00 00 02 00 00 00 00 00 00 00 00 00 00 00');
  // The input is not modified; the resolved copies keep their labels.
  assert.equal(prog[2]!.off, 0);
  assert.equal(asm.insnAtSlot[1]!.target, 'end');
  assert.equal(
    A.disassemble(prog),
    [
      '   0: (b7) r0 = 0',
      '   1: (15) if r1 == 0x0 goto pc+4',
      '   2: (18) r2 = 0x10000000000',
      '   4: (18) r3 = map[fd:7]',
      '   6: (5d) if r1 != r2 goto pc-7',
      '   7: (05) goto pc-2',
      '   8: (18) r4 = subprog[+2]',
      '  10: (95) exit',
      '  11: (95) exit',
      '',
    ].join('\n'),
  );
});

test('a label at the very end and a call to a subprogram', () => {
  const asm = A.assemble([A.callLocal('sub'), A.ja('out'), A.label('sub'), A.exit(), A.label('out')]);
  assert.equal(asm.insnAtSlot[0]!.imm, 1);
  assert.equal(asm.insnAtSlot[1]!.off, 1);
  assert.equal(asm.slots, 3);
});

test('assemble errors name the label', () => {
  assert.throws(() => A.assemble([A.ja('nowhere'), A.exit()]), (e: unknown) => {
    assert.ok(e instanceof A.AsmError);
    assert.match(e.message, /unknown label "nowhere"/);
    assert.equal(e.label, 'nowhere');
    assert.equal(e.index, 0);
    return true;
  });
  assert.throws(() => A.assemble([A.label('a'), A.exit(), A.label('a')]), /duplicate label "a"/);
  assert.throws(() => A.assemble([{ ...A.mov64Imm(R0, 0), target: 'a' }, A.label('a')]), /targets "a"/);
  assert.throws(() => A.assemble([{ ...A.exit(), dst: 16 }]), /dst register 16/);
  assert.throws(() => A.assemble([{ ...A.exit(), off: 40000 }]), /offset 40000/);

  const far: Insn[] = [A.jmpImm('jeq', R1, 0, 'far')];
  for (let i = 0; i < 32768; i++) far.push(A.mov64Imm(R0, i));
  far.push(A.label('far'), A.exit());
  assert.throws(() => A.assemble(far), /label "far".*offset 32768, outside the 16-bit range/);
  // One fewer fits exactly.
  far.splice(1, 1);
  assert.equal(A.assemble(far).insnAtSlot[0]!.off, 32767);
  // gotol has a 32-bit offset.
  const long: Insn[] = [A.ja32('far')];
  for (let i = 0; i < 40000; i++) long.push(A.mov64Imm(R0, 0));
  long.push(A.label('far'), A.exit());
  assert.equal(A.assemble(long).insnAtSlot[0]!.imm, 40000);
});

test('builders reject bad operands', () => {
  assert.throws(() => A.mov64Imm(11, 0), /register 11/);
  assert.throws(() => A.mov64Reg(R1, -1), /register -1/);
  assert.throws(() => A.mov64Imm(R1, 2 ** 32), /does not fit in 32 bits/);
  // 64-bit forms sign-extend their immediate, so the unsigned spelling is refused there only.
  assert.throws(() => A.mov64Imm(R1, 0xffffffff), /sign-extended to -1/);
  assert.throws(() => A.alu64Imm('and', R1, 0x80000000), /sign-extended/);
  assert.throws(() => A.jmpImm('jeq', R1, 0xffffffff, 'x'), /sign-extended/);
  assert.throws(() => A.st('dw', R10, -8, 0xffffffff), /sign-extended/);
  assert.equal(A.alu32Imm('and', R1, 0xffffffff).imm, -1);
  assert.equal(A.st('w', R10, -8, 0xffffffff).imm, -1);
  assert.equal(A.jmp32Imm('jeq', R1, 0xffffffff, 'x').imm, -1);
  assert.throws(() => A.mov64Imm(R1, 1.5), /does not fit/);
  assert.throws(() => A.ldx('w', R1, R2, 0x8000), /offset 32768/);
  assert.throws(() => A.ldImm64(R1, 2 ** 60), /safe integer/);
  assert.throws(() => A.ldImm64(R1, 1n << 64n), /64 bits/);
  assert.throws(() => A.call('no_such_helper'), /unknown helper 'no_such_helper'/);
  assert.throws(() => A.alu64Reg('neg', R1, R2), /neg/);
  assert.throws(() => A.ldxs('dw' as 'w', R1, R2, 0), /size 'dw'/);
  assert.throws(() => A.atomic('h' as 'w', 'add', R1, 0, R2), /size 'h'/);
  assert.throws(() => A.ja(''), /label name/);
});

test('origins map every slot, LD_IMM64 both halves', () => {
  const o1 = { line: 1 };
  const o2 = { line: 2 };
  const asm = A.assemble([
    A.withOrigin(A.mov64Imm(R0, 0), o1),
    A.withOrigin(A.label('l'), o2),
    A.withOrigin(A.ldImm64(R1, 5), o2, 'five'),
    A.exit(),
  ]);
  assert.deepEqual(asm.origins, [o1, o2, o2, undefined]);
  assert.equal(asm.insnAtSlot[1]!.comment, 'five');
  const base = A.mov64Imm(R0, 0);
  const tagged = A.withOrigin(base, o1, 'c');
  assert.equal(base.origin, undefined, 'withOrigin copies');
  assert.equal(tagged.comment, 'c');
});

test('HELPERS lists every bpf_func_id of Linux 6.18', () => {
  assert.equal(Object.keys(A.HELPERS).length, 212);
  assert.equal(A.HELPERS.unspec, 0);
  assert.equal(A.HELPERS.map_lookup_elem, 1);
  assert.equal(A.HELPERS.probe_read, 4);
  assert.equal(A.HELPERS.trace_printk, 6);
  assert.equal(A.HELPERS.get_current_pid_tgid, 14);
  assert.equal(A.HELPERS.get_current_comm, 16);
  assert.equal(A.HELPERS.perf_event_output, 25);
  assert.equal(A.HELPERS.get_stackid, 27);
  assert.equal(A.HELPERS.probe_read_kernel_str, 115);
  assert.equal(A.HELPERS.ringbuf_output, 130);
  assert.equal(A.HELPERS.for_each_map_elem, 164);
  assert.equal(A.HELPERS.loop, 181);
  assert.equal(A.HELPERS.user_ringbuf_drain, 209);
  assert.equal(A.HELPERS.cgrp_storage_delete, 211);
  const ids = Object.values(A.HELPERS).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 212 }, (_, i) => i), 'ids are dense 0..211');
  assert.equal(A.helperName(14), 'get_current_pid_tgid');
  assert.equal(A.helperName(212), undefined);
  assert.equal(A.helperName(-1), undefined);
  assert.equal(A.call('bpf_get_current_pid_tgid').imm, 14);
});

// ---- the round trip over every builder form ----

const ALU_OPS: AluOp[] = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'mod', 'xor', 'mov', 'arsh', 'sdiv', 'smod'];
const JMP_OPS: JmpOp[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];
const SIZES: Size[] = ['b', 'h', 'w', 'dw'];

function everyForm(): Insn[] {
  const p: Insn[] = [A.label('start')];
  p.push(A.mov64Imm(R1, 0), A.mov64Imm(R9, -2147483648), A.mov64Reg(R1, R10), A.mov32Imm(R2, 2147483647),
    A.mov32Reg(R2, R3));
  for (const op of [...ALU_OPS, 'neg' as const]) {
    for (const imm of [0, 7, -7]) p.push(A.alu64Imm(op, R1, imm), A.alu32Imm(op, R1, imm));
    if (op !== 'neg') p.push(A.alu64Reg(op, R1, R2), A.alu32Reg(op, R9, R0));
  }
  p.push(A.neg64(R3), A.neg32(R3));
  for (const b of [8, 16, 32] as const) p.push(A.movsx64(R1, R2, b));
  for (const b of [8, 16] as const) p.push(A.movsx32(R1, R2, b));
  for (const k of ['le', 'be', 'bswap'] as const) for (const b of [16, 32, 64] as const) p.push(A.endian(k, R4, b));
  for (const s of SIZES) {
    p.push(A.ldx(s, R1, R10, -8), A.ldx(s, R1, R2, 32767), A.stx(s, R10, -32768, R1), A.st(s, R10, -16, -1),
      A.st(s, R1, 0, 123456), A.ldAbs(s, 14), A.ldInd(s, R6, -2), A.loadAcquire(s, R0, R1, 8), A.storeRelease(s, R1, -8, R2));
  }
  for (const s of ['b', 'h', 'w'] as const) p.push(A.ldxs(s, R0, R1, -4));
  for (const s of ['w', 'dw'] as const) {
    for (const op of ['add', 'or', 'and', 'xor'] as const) p.push(A.atomic(s, op, R10, -8, R1), A.atomic(s, op, R1, 16, R2, true));
    p.push(A.atomic(s, 'xchg', R10, -8, R3), A.atomic(s, 'cmpxchg', R10, -8, R3));
  }
  p.push(A.ldImm64(R1, 0), A.ldImm64(R1, -1), A.ldImm64(R1, 0xdeadbeefcafef00dn), A.ldImm64(R2, 2 ** 53 - 1),
    A.ldMapFd(R1, 3), A.ldMapFd(R1, 0x7fffffff), A.ldMapValue(R2, 4, 0), A.ldMapValue(R2, 4, 0xffffffff), A.ldFunc(R2, 'sub'));
  for (const op of JMP_OPS) {
    p.push(A.jmpImm(op, R1, 0, 'fwd'), A.jmpImm(op, R1, -1, 'start'), A.jmpImm(op, R1, 0x7fffffff, 'fwd'),
      A.jmpReg(op, R1, R2, 'start'), A.jmp32Imm(op, R3, 0xfffffff0, 'fwd'), A.jmp32Reg(op, R3, R4, 'start'));
  }
  p.push(A.ja('start'), A.ja('fwd'), A.ja32('start'), A.ja32('fwd'), A.mayGoto('fwd'), A.label('fwd'));
  for (const id of Object.values(A.HELPERS)) p.push(A.call(id));
  p.push(A.call(999), A.callKfunc(12345), A.callLocal('sub'), A.callLocal('start'));
  p.push(A.addrSpaceCast(R1, R2, 1, 0), A.movPercpuAddr(R0, R0));
  p.push(A.exit(), A.label('sub'), A.exit());
  return p;
}

test('round trip: builders -> assemble -> decode -> disassemble -> parseInsnText -> same bytes', () => {
  const prog = everyForm();
  const asm = A.assemble(prog);
  const decoded = A.decode(asm.bytes);
  assert.equal(decoded.length, asm.insnAtSlot.filter((x) => x).length);

  // decode gives back the same fields as the resolved instructions.
  const resolved = asm.insnAtSlot.filter((x): x is Insn => x !== undefined);
  decoded.forEach((d, i) => {
    const r = resolved[i]!;
    assert.deepEqual(
      { code: d.code, dst: d.dst, src: d.src, off: d.off, imm: d.imm, imm64: d.imm64 },
      { code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm | 0,
        imm64: r.imm64 === undefined ? undefined : BigInt.asUintN(64, r.imm64) },
      A.formatInsn(r),
    );
  });

  const text = A.disassemble(asm.bytes);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'text ends with a newline');
  assert.equal(lines.length, decoded.length);
  const reparsed = lines.map((l) => A.parseInsnText(l));
  const rebuilt = Buffer.concat(reparsed.map((i) => A.encode(i)));
  if (!rebuilt.equals(asm.bytes)) {
    // Point at the first line that did not survive.
    let slot = 0;
    for (let i = 0; i < reparsed.length; i++) {
      const n = reparsed[i]!.code === A.LD_IMM64_CODE ? 16 : 8;
      assert.equal(hex(rebuilt.subarray(slot * 8, slot * 8 + n)), hex(asm.bytes.subarray(slot * 8, slot * 8 + n)), lines[i]);
      slot += n / 8;
    }
  }
  assert.ok(rebuilt.equals(asm.bytes));
  // Disassembling Insn[] directly gives the same text as the bytes.
  assert.equal(A.disassemble(prog), text);
  assert.equal(A.disassemble(asm), text);
});

test('parseInsnText reads bpftool spellings and checks the opcode', () => {
  assert.deepEqual(A.encode(A.parseInsnText('   3: (18) r1 = map[id:58]')), A.encode(A.ldMapFd(R1, 58)));
  assert.deepEqual(A.encode(A.parseInsnText('  33: (85) call bpf_get_current_pid_tgid#274304')), A.encode(A.call(274304)));
  assert.deepEqual(A.encode(A.parseInsnText('(bf) r6 = r1')), A.encode(A.mov64Reg(R6, R1)));
  assert.deepEqual(A.encode(A.parseInsnText('w1 += w2')), A.encode(A.alu32Reg('add', R1, R2)));
  assert.deepEqual(A.encode(A.parseInsnText('   7: (15) if r0 == 0x0 goto pc+2  ; null check')),
    A.encode({ ...A.jmpImm('jeq', R0, 0, 'x'), target: undefined, off: 2 }));
  assert.deepEqual(A.encode(A.parseInsnText('r1 = map[@x]', { mapFd: (n) => (n === '@x' ? 9 : undefined) })),
    A.encode(A.ldMapFd(R1, 9)));
  assert.throws(() => A.parseInsnText('(bf) w1 = w2'), /does not match/);
  assert.throws(() => A.parseInsnText('r1 = frobnicate'), /cannot parse/);
  assert.throws(() => A.parseInsnText('r1 = map[@x]'), /cannot resolve map reference/);
});

test('disassemble: slot numbers, comments, annotations, map names, opcodes', () => {
  const a = { loc: 'stdin:1:1' };
  const b = { loc: 'stdin:1:9' };
  const prog: Insn[] = [
    A.withOrigin(A.mov64Reg(R6, R1), a),
    A.withOrigin(A.call('get_current_pid_tgid'), b, 'pid'),
    A.withOrigin(A.alu64Imm('rsh', R0, 32), { loc: 'stdin:1:9' }),
    A.withOrigin(A.stx('w', R10, -4, R0), b),
    A.withOrigin(A.ldMapFd(R1, 5), a),
    A.withOrigin(A.ldMapValue(R2, 6, 8), a),
    A.jmpImm('jeq', R0, 0, 'out'),
    A.alu32Imm('add', R1, 2),
    A.atomic('dw', 'add', R1, 0, R2),
    A.movsx64(R1, R2, 8),
    A.ldxs('b', R0, R1, 0),
    A.label('out'),
    A.exit(),
  ];
  const annotate = (o: unknown) => (o as { loc: string }).loc;
  assert.equal(
    A.disassemble(prog, { annotate, mapName: (fd) => (fd === 5 ? '@counts' : `fd:${fd}`) }),
    [
      '; stdin:1:1',
      '   0: (bf) r6 = r1',
      '; stdin:1:9',
      '   1: (85) call bpf_get_current_pid_tgid#14  ; pid',
      '   2: (77) r0 >>= 32',
      '   3: (63) *(u32 *)(r10 -4) = r0',
      '; stdin:1:1',
      '   4: (18) r1 = map[@counts]',
      '   6: (18) r2 = map[fd:6][0]+8',
      '   8: (15) if r0 == 0x0 goto pc+4',
      '   9: (04) w1 += 2',
      '  10: (db) lock *(u64 *)(r1 +0) += r2',
      '  11: (bf) r1 = (s8)r2',
      '  12: (91) r0 = *(s8 *)(r1 +0)',
      '  13: (95) exit',
      '',
    ].join('\n'),
  );
  assert.equal(
    A.disassemble([A.ldMapFd(R1, 0x3a), A.exit()], { opcodes: true }),
    '   0: (18) r1 = map[fd:58]\n'
      + '       18 11 00 00 3a 00 00 00 00 00 00 00 00 00 00 00\n'
      + '   2: (95) exit\n'
      + '       95 00 00 00 00 00 00 00\n',
  );
  // bpftool's "% 4d: " grows a column at 1000 and keeps its sign space.
  const long: Insn[] = Array.from({ length: 1001 }, () => A.mov64Imm(R0, 0));
  const lines = A.disassemble(long).split('\n');
  assert.equal(lines[999], ' 999: (b7) r0 = 0');
  assert.equal(lines[1000], ' 1000: (b7) r0 = 0');
  assert.equal(A.disassemble([]), '');
});

test('disassemble prints unknown encodings the way the kernel does', () => {
  const raw = (...b: number[]) => Buffer.from(b);
  assert.equal(A.disassemble(raw(0x85, 0, 0, 0, 0xe7, 0x03, 0, 0)), '   0: (85) call unknown#999\n');
  assert.equal(A.disassemble(raw(0x8b, 0, 0, 0, 0, 0, 0, 0)), '   0: BUG_8b\n');
  assert.equal(A.disassemble(raw(0x9a, 0, 0, 0, 0, 0, 0, 0)), '   0: BUG_st_9a\n');
  assert.equal(A.disassemble(raw(0xa1, 0, 0, 0, 0, 0, 0, 0)), '   0: BUG_ldx_a1\n');
  assert.equal(A.disassemble(raw(0x00, 0, 0, 0, 0, 0, 0, 0)), '   0: BUG_ld_00\n');
  assert.throws(() => A.decode(raw(0x18, 1, 0, 0, 0, 0, 0, 0)), /missing its second half/);
  assert.throws(() => A.decode(raw(0x95, 0, 0)), /not a whole number/);
});
