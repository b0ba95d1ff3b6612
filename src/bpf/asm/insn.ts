// The instruction value and the opcode bit layout of include/uapi/linux/bpf.h
// and bpf_common.h. One instruction is 8 bytes: code, dst:4|src:4, off (s16),
// imm (s32); LD_IMM64 is the one 16-byte form, modelled here as a single Insn.

export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R6 = 6;
export const R7 = 7;
export const R8 = 8;
export const R9 = 9;
/** Read-only frame pointer. */
export const R10 = 10;
export type Reg = number;

export type Size = 'b' | 'h' | 'w' | 'dw';
export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg' | 'mod' | 'xor' | 'mov' | 'arsh'
  | 'sdiv' | 'smod';
export type JmpOp = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Set only for the 16-byte LD_IMM64 form; the full value, low half also in imm. */
  imm64?: bigint;
  /** Label a jump / bpf-to-bpf call / ldFunc goes to; assemble() fills off (or imm). */
  target?: string;
  /** Pseudo-instruction that defines a label and emits nothing. */
  labelDef?: string;
  /** Opaque tag carried to the slot map (the compiler puts the source location here). */
  origin?: unknown;
  /** Printed by the disassembler after the instruction. */
  comment?: string;
}

// Instruction classes (code & 0x07).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Load/store sizes (code & 0x18).
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Load/store modes (code & 0xe0).
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Operand source (code & 0x08); for BPF_END it selects the byte order instead.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// ALU operations (code & 0xf0).
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Jump operations (code & 0xf0).
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_JCOND = 0xe0;

// imm of BPF_STX | BPF_ATOMIC.
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

// src_reg of LD_IMM64.
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// src_reg of BPF_CALL.
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

// src_reg of BPF_JCOND.
export const BPF_MAY_GOTO = 0;

// off of ALU64 MOV X with special meaning (arena pointers, per-CPU addresses).
export const BPF_ADDR_SPACE_CAST = 1;
export const BPF_ADDR_PERCPU = -1;

export const LD_IMM64_CODE = BPF_LD | BPF_IMM | BPF_DW;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;

export const SIZE_CODE: Record<Size, number> = { b: BPF_B, h: BPF_H, w: BPF_W, dw: BPF_DW };
export const SIZE_BYTES: Record<Size, number> = { b: 1, h: 2, w: 4, dw: 8 };

export const ALU_OP_CODE: Record<AluOp, number> = {
  add: BPF_ADD, sub: BPF_SUB, mul: BPF_MUL, div: BPF_DIV, or: BPF_OR, and: BPF_AND, lsh: BPF_LSH,
  rsh: BPF_RSH, neg: BPF_NEG, mod: BPF_MOD, xor: BPF_XOR, mov: BPF_MOV, arsh: BPF_ARSH,
  // The signed forms share DIV/MOD and are told apart by off = 1.
  sdiv: BPF_DIV, smod: BPF_MOD,
};

export const JMP_OP_CODE: Record<JmpOp, number> = {
  jeq: BPF_JEQ, jne: BPF_JNE, jgt: BPF_JGT, jge: BPF_JGE, jlt: BPF_JLT, jle: BPF_JLE, jsgt: BPF_JSGT,
  jsge: BPF_JSGE, jslt: BPF_JSLT, jsle: BPF_JSLE, jset: BPF_JSET,
};

/** How many 8-byte slots an instruction occupies once encoded (0 for a label). */
export function slotCount(insn: Insn): number {
  if (insn.labelDef !== undefined) return 0;
  return insn.code === LD_IMM64_CODE ? 2 : 1;
}

/** True for instructions whose target is resolved into off (conditional and goto). */
export function isJumpWithOff(insn: Insn): boolean {
  const cls = bpfClass(insn.code);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return false;
  const op = bpfOp(insn.code);
  if (op === BPF_CALL || op === BPF_EXIT) return false;
  // gotol keeps its offset in imm.
  return !(cls === BPF_JMP32 && op === BPF_JA);
}
