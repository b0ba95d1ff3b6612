// One function per instruction form. Each checks its operands at the call
// site, where a bad register or immediate is still attributable to the code
// generator line that produced it, rather than at assembly time.
import {
  ALU_OP_CODE, BPF_ADDR_PERCPU, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_ABS, BPF_ATOMIC, BPF_CALL,
  BPF_CMPXCHG, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IND, BPF_JA, BPF_JCOND, BPF_JMP, BPF_JMP32, BPF_K,
  BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MAY_GOTO, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_NEG,
  BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_ST,
  BPF_STORE_REL, BPF_STX, BPF_TO_BE, BPF_TO_LE, BPF_X, BPF_XCHG, JMP_OP_CODE, LD_IMM64_CODE, SIZE_CODE,
  BPF_ADD, BPF_AND, BPF_OR, BPF_XOR,
} from './insn.js';
import type { AluOp, AtomicOp, Insn, JmpOp, Reg, Size } from './insn.js';
import { HELPERS, helperId } from './helpers.js';

const MAX_REG = 10;

function reg(fn: string, what: string, r: Reg): number {
  if (!Number.isInteger(r) || r < 0 || r > MAX_REG) throw new RangeError(`${fn}: ${what} register ${r} is not r0..r10`);
  return r;
}

// 32-bit operations accept the unsigned spelling too (0xffffffff), since
// masks are written that way and the bits are the same. 64-bit operations
// sign-extend the immediate, so there 0xffffffff would silently mean -1:
// refuse it and point at the two spellings that say what is meant.
function imm32(fn: string, v: number, unsignedOk = true): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new RangeError(`${fn}: immediate ${v} does not fit in 32 bits`);
  }
  if (!unsignedOk && v > 0x7fffffff) {
    throw new RangeError(`${fn}: immediate ${v} would be sign-extended to ${v - 2 ** 32} in a 64-bit operation; `
      + `write ${v - 2 ** 32} or load the value with ldImm64`);
  }
  return v | 0;
}

function off16(fn: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) throw new RangeError(`${fn}: offset ${v} does not fit in 16 bits`);
  return v;
}

function size(fn: string, s: Size, allowed: readonly Size[] = ['b', 'h', 'w', 'dw']): number {
  if (!allowed.includes(s)) throw new RangeError(`${fn}: size '${s}' is not one of ${allowed.join(', ')}`);
  return SIZE_CODE[s];
}

function labelName(fn: string, name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${fn}: label name must be a non-empty string`);
  return name;
}

function mk(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

function aluOpCode(fn: string, op: AluOp): number {
  const c = ALU_OP_CODE[op];
  if (c === undefined) throw new RangeError(`${fn}: unknown ALU op '${op}'`);
  return c;
}

function jmpOpCode(fn: string, op: JmpOp): number {
  const c = JMP_OP_CODE[op];
  if (c === undefined) throw new RangeError(`${fn}: unknown jump op '${op}'`);
  return c;
}

const signedOff = (op: AluOp): number => (op === 'sdiv' || op === 'smod' ? 1 : 0);

function aluImm(fn: string, cls: number, op: AluOp, dst: Reg, imm: number): Insn {
  const code = aluOpCode(fn, op);
  if (op === 'neg') return mk(cls | BPF_NEG | BPF_K, reg(fn, 'dst', dst), 0, 0, 0);
  return mk(cls | code | BPF_K, reg(fn, 'dst', dst), 0, signedOff(op), imm32(fn, imm, cls === BPF_ALU));
}

function aluReg(fn: string, cls: number, op: AluOp, dst: Reg, src: Reg): Insn {
  const code = aluOpCode(fn, op);
  if (op === 'neg') throw new RangeError(`${fn}: 'neg' takes no source operand; use neg64/neg32`);
  return mk(cls | code | BPF_X, reg(fn, 'dst', dst), reg(fn, 'src', src), signedOff(op), 0);
}

// ---- ALU ----

export const mov64Imm = (dst: Reg, imm: number): Insn => aluImm('mov64Imm', BPF_ALU64, 'mov', dst, imm);
export const mov64Reg = (dst: Reg, src: Reg): Insn => aluReg('mov64Reg', BPF_ALU64, 'mov', dst, src);
export const mov32Imm = (dst: Reg, imm: number): Insn => aluImm('mov32Imm', BPF_ALU, 'mov', dst, imm);
export const mov32Reg = (dst: Reg, src: Reg): Insn => aluReg('mov32Reg', BPF_ALU, 'mov', dst, src);

/** dst = (s8|s16|s32) src, sign-extended to 64 bits (cpu v4). */
export function movsx64(dst: Reg, src: Reg, bits: 8 | 16 | 32): Insn {
  if (bits !== 8 && bits !== 16 && bits !== 32) throw new RangeError(`movsx64: bits ${bits} is not 8, 16 or 32`);
  return mk(BPF_ALU64 | BPF_MOV | BPF_X, reg('movsx64', 'dst', dst), reg('movsx64', 'src', src), bits, 0);
}

/** w_dst = (s8|s16) w_src, sign-extended to 32 bits, upper half zeroed (cpu v4). */
export function movsx32(dst: Reg, src: Reg, bits: 8 | 16): Insn {
  if (bits !== 8 && bits !== 16) throw new RangeError(`movsx32: bits ${bits} is not 8 or 16`);
  return mk(BPF_ALU | BPF_MOV | BPF_X, reg('movsx32', 'dst', dst), reg('movsx32', 'src', src), bits, 0);
}

export const alu64Imm = (op: AluOp, dst: Reg, imm: number): Insn => aluImm('alu64Imm', BPF_ALU64, op, dst, imm);
export const alu64Reg = (op: AluOp, dst: Reg, src: Reg): Insn => aluReg('alu64Reg', BPF_ALU64, op, dst, src);
export const alu32Imm = (op: AluOp, dst: Reg, imm: number): Insn => aluImm('alu32Imm', BPF_ALU, op, dst, imm);
export const alu32Reg = (op: AluOp, dst: Reg, src: Reg): Insn => aluReg('alu32Reg', BPF_ALU, op, dst, src);

export const neg64 = (dst: Reg): Insn => mk(BPF_ALU64 | BPF_NEG | BPF_K, reg('neg64', 'dst', dst), 0, 0, 0);
export const neg32 = (dst: Reg): Insn => mk(BPF_ALU | BPF_NEG | BPF_K, reg('neg32', 'dst', dst), 0, 0, 0);

/**
 * Byte order conversion. 'le'/'be' convert from host order to that order
 * (on x86 'le' only truncates to `bits`); 'bswap' swaps unconditionally (cpu v4).
 */
export function endian(kind: 'le' | 'be' | 'bswap', dst: Reg, bits: 16 | 32 | 64): Insn {
  if (bits !== 16 && bits !== 32 && bits !== 64) throw new RangeError(`endian: bits ${bits} is not 16, 32 or 64`);
  const d = reg('endian', 'dst', dst);
  switch (kind) {
    case 'le': return mk(BPF_ALU | BPF_END | BPF_TO_LE, d, 0, 0, bits);
    case 'be': return mk(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits);
    case 'bswap': return mk(BPF_ALU64 | BPF_END | BPF_TO_LE, d, 0, 0, bits);
    default: throw new RangeError(`endian: kind '${kind as string}' is not le, be or bswap`);
  }
}

// ---- memory ----

/** dst = *(size *)(src + off), zero-extended. */
export function ldx(sz: Size, dst: Reg, src: Reg, off: number): Insn {
  return mk(BPF_LDX | BPF_MEM | size('ldx', sz), reg('ldx', 'dst', dst), reg('ldx', 'src', src), off16('ldx', off), 0);
}

/** dst = *(s8|s16|s32 *)(src + off), sign-extended (BPF_MEMSX, cpu v4). */
export function ldxs(sz: 'b' | 'h' | 'w', dst: Reg, src: Reg, off: number): Insn {
  return mk(BPF_LDX | BPF_MEMSX | size('ldxs', sz, ['b', 'h', 'w']), reg('ldxs', 'dst', dst), reg('ldxs', 'src', src),
    off16('ldxs', off), 0);
}

/** *(size *)(dst + off) = src. */
export function stx(sz: Size, dst: Reg, off: number, src: Reg): Insn {
  return mk(BPF_STX | BPF_MEM | size('stx', sz), reg('stx', 'dst', dst), reg('stx', 'src', src), off16('stx', off), 0);
}

/** *(size *)(dst + off) = imm; for 'dw' the immediate is sign-extended. */
export function st(sz: Size, dst: Reg, off: number, imm: number): Insn {
  return mk(BPF_ST | BPF_MEM | size('st', sz), reg('st', 'dst', dst), 0, off16('st', off), imm32('st', imm, sz !== 'dw'));
}

const ATOMIC_IMM: Record<AtomicOp, number> = {
  add: BPF_ADD, or: BPF_OR, and: BPF_AND, xor: BPF_XOR, xchg: BPF_XCHG, cmpxchg: BPF_CMPXCHG,
};

/**
 * Atomic read-modify-write of *(size *)(dst + off) with src. With fetch the
 * old value lands in src; xchg always fetches; cmpxchg compares with r0 and
 * leaves the old value in r0.
 */
export function atomic(sz: 'w' | 'dw', op: AtomicOp, dst: Reg, off: number, src: Reg, fetch = false): Insn {
  const base = ATOMIC_IMM[op];
  if (base === undefined) throw new RangeError(`atomic: unknown op '${op}'`);
  const imm = op === 'xchg' || op === 'cmpxchg' ? base : base | (fetch ? BPF_FETCH : 0);
  return mk(BPF_STX | BPF_ATOMIC | size('atomic', sz, ['w', 'dw']), reg('atomic', 'dst', dst), reg('atomic', 'src', src),
    off16('atomic', off), imm);
}

/** dst = load_acquire((size *)(src + off)) (Linux 6.15+). */
export function loadAcquire(sz: Size, dst: Reg, src: Reg, off: number): Insn {
  return mk(BPF_STX | BPF_ATOMIC | size('loadAcquire', sz), reg('loadAcquire', 'dst', dst), reg('loadAcquire', 'src', src),
    off16('loadAcquire', off), BPF_LOAD_ACQ);
}

/** store_release((size *)(dst + off), src) (Linux 6.15+). */
export function storeRelease(sz: Size, dst: Reg, off: number, src: Reg): Insn {
  return mk(BPF_STX | BPF_ATOMIC | size('storeRelease', sz), reg('storeRelease', 'dst', dst),
    reg('storeRelease', 'src', src), off16('storeRelease', off), BPF_STORE_REL);
}

// ---- 64-bit immediates ----

function ld64(dst: Reg, src: number, value: bigint): Insn {
  const v = BigInt.asUintN(64, value);
  return { code: LD_IMM64_CODE, dst, src, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v };
}

/** dst = value (any 64-bit pattern; negative numbers are two's complement). */
export function ldImm64(dst: Reg, value: bigint | number): Insn {
  let v: bigint;
  if (typeof value === 'bigint') {
    if (value < -(1n << 63n) || value >= 1n << 64n) throw new RangeError(`ldImm64: value ${value} does not fit in 64 bits`);
    v = value;
  } else {
    if (!Number.isSafeInteger(value)) throw new RangeError(`ldImm64: ${value} is not a safe integer; pass a bigint`);
    v = BigInt(value);
  }
  return ld64(reg('ldImm64', 'dst', dst), 0, v);
}

function fd32(fn: string, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`${fn}: map fd ${fd} is not a valid fd`);
  return fd;
}

/** dst = pointer to the map whose fd is given (BPF_PSEUDO_MAP_FD). */
export function ldMapFd(dst: Reg, fd: number): Insn {
  return ld64(reg('ldMapFd', 'dst', dst), BPF_PSEUDO_MAP_FD, BigInt(fd32('ldMapFd', fd)));
}

/** dst = address of byte `off` of the value of an array map's element 0 (BPF_PSEUDO_MAP_VALUE). */
export function ldMapValue(dst: Reg, fd: number, off: number): Insn {
  if (!Number.isInteger(off) || off < 0 || off > 0xffffffff) throw new RangeError(`ldMapValue: offset ${off} is not a u32`);
  return ld64(reg('ldMapValue', 'dst', dst), BPF_PSEUDO_MAP_VALUE,
    (BigInt(off) << 32n) | BigInt(fd32('ldMapValue', fd)));
}

/** dst = address of the subprogram at `target` (BPF_PSEUDO_FUNC), e.g. a bpf_loop callback. */
export function ldFunc(dst: Reg, target: string): Insn {
  return { ...ld64(reg('ldFunc', 'dst', dst), BPF_PSEUDO_FUNC, 0n), target: labelName('ldFunc', target) };
}

// ---- legacy packet access ----

/** r0 = *(size *)skb[imm] (socket filters only). */
export function ldAbs(sz: Size, imm: number): Insn {
  return mk(BPF_LD | BPF_ABS | size('ldAbs', sz), 0, 0, 0, imm32('ldAbs', imm));
}

/** r0 = *(size *)skb[src + imm] (socket filters only). */
export function ldInd(sz: Size, src: Reg, imm: number): Insn {
  return mk(BPF_LD | BPF_IND | size('ldInd', sz), 0, reg('ldInd', 'src', src), 0, imm32('ldInd', imm));
}

// ---- control flow ----

function jump(code: number, dst: number, src: number, imm: number, target: string, fn: string): Insn {
  return { code, dst, src, off: 0, imm, target: labelName(fn, target) };
}

/** goto target (16-bit offset). */
export const ja = (target: string): Insn => jump(BPF_JMP | BPF_JA, 0, 0, 0, target, 'ja');

/** gotol target: the 32-bit offset form for jumps beyond +-32767 slots (cpu v4). */
export const ja32 = (target: string): Insn => jump(BPF_JMP32 | BPF_JA, 0, 0, 0, target, 'ja32');

/** may_goto target: taken once the kernel's loop budget runs out (Linux 6.9+). */
export const mayGoto = (target: string): Insn => jump(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, 0, target, 'mayGoto');

export function jmpImm(op: JmpOp, dst: Reg, imm: number, target: string): Insn {
  return jump(BPF_JMP | jmpOpCode('jmpImm', op) | BPF_K, reg('jmpImm', 'dst', dst), 0, imm32('jmpImm', imm, false), target,
    'jmpImm');
}

export function jmpReg(op: JmpOp, dst: Reg, src: Reg, target: string): Insn {
  return jump(BPF_JMP | jmpOpCode('jmpReg', op) | BPF_X, reg('jmpReg', 'dst', dst), reg('jmpReg', 'src', src), 0, target,
    'jmpReg');
}

export function jmp32Imm(op: JmpOp, dst: Reg, imm: number, target: string): Insn {
  return jump(BPF_JMP32 | jmpOpCode('jmp32Imm', op) | BPF_K, reg('jmp32Imm', 'dst', dst), 0, imm32('jmp32Imm', imm), target,
    'jmp32Imm');
}

export function jmp32Reg(op: JmpOp, dst: Reg, src: Reg, target: string): Insn {
  return jump(BPF_JMP32 | jmpOpCode('jmp32Reg', op) | BPF_X, reg('jmp32Reg', 'dst', dst), reg('jmp32Reg', 'src', src), 0,
    target, 'jmp32Reg');
}

/** Call a helper by name ('map_lookup_elem' or 'bpf_map_lookup_elem') or by id. */
export function call(helper: string | number): Insn {
  let id: number | undefined;
  if (typeof helper === 'number') {
    if (!Number.isInteger(helper) || helper < 0 || helper > 0x7fffffff) throw new RangeError(`call: helper id ${helper} is invalid`);
    id = helper;
  } else {
    id = helperId(helper);
    if (id === undefined) throw new RangeError(`call: unknown helper '${helper}' (Linux 6.18 has ${Object.keys(HELPERS).length - 1} helpers)`);
  }
  return mk(BPF_JMP | BPF_CALL, 0, 0, 0, id);
}

/** bpf-to-bpf call of the subprogram starting at `target`. */
export const callLocal = (target: string): Insn => jump(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, target, 'callLocal');

/** Call a kernel function by its BTF id (in vmlinux BTF unless btfFdIdx names a module's BTF in fd_array). */
export function callKfunc(btfId: number, btfFdIdx = 0): Insn {
  return mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, off16('callKfunc', btfFdIdx), imm32('callKfunc', btfId));
}

export const exit = (): Insn => mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

/** Defines `name` at the position of the next real instruction; emits nothing. */
export function label(name: string): Insn {
  return { code: 0, dst: 0, src: 0, off: 0, imm: 0, labelDef: labelName('label', name) };
}

// ---- arena / per-CPU forms (kernel-internal or arena programs; here for completeness) ----

/** dst = addr_space_cast(src, destAs, srcAs) (arena programs). */
export function addrSpaceCast(dst: Reg, src: Reg, destAs: number, srcAs: number): Insn {
  if (!Number.isInteger(destAs) || destAs < 0 || destAs > 0xffff || !Number.isInteger(srcAs) || srcAs < 0 || srcAs > 0xffff) {
    throw new RangeError(`addrSpaceCast: address spaces ${destAs}, ${srcAs} are not u16`);
  }
  return mk(BPF_ALU64 | BPF_MOV | BPF_X, reg('addrSpaceCast', 'dst', dst), reg('addrSpaceCast', 'src', src),
    BPF_ADDR_SPACE_CAST, ((destAs << 16) | srcAs) | 0);
}

/** dst = src + this CPU's per-CPU offset (the verifier emits it; programs may not). */
export function movPercpuAddr(dst: Reg, src: Reg): Insn {
  return mk(BPF_ALU64 | BPF_MOV | BPF_X, reg('movPercpuAddr', 'dst', dst), reg('movPercpuAddr', 'src', src), BPF_ADDR_PERCPU, 0);
}

/**
 * A copy of `insn` tagged with the source construct that produced it (carried
 * to Assembled.origins and shown by disassemble's annotate), and optionally a comment.
 */
export function withOrigin<T extends Insn>(insn: T, origin: unknown, comment?: string): T {
  const out = { ...insn, origin };
  if (comment !== undefined) out.comment = comment;
  return out;
}
