// Label resolution and the 8-byte wire encoding (struct bpf_insn, little
// endian as on every host we run on), plus its inverse.
import {
  BPF_CALL, BPF_JA, BPF_JMP, BPF_JMP32, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, LD_IMM64_CODE, bpfClass, bpfOp, isJumpWithOff,
  slotCount,
} from './insn.js';
import type { Insn } from './insn.js';
import { putU16, putU32 } from '../../le.js';

export class AsmError extends Error {
  /** Index of the offending instruction in the input array, when there is one. */
  readonly index: number | undefined;
  readonly label: string | undefined;
  constructor(message: string, index?: number, label?: string) {
    super(message);
    this.name = 'AsmError';
    this.index = index;
    this.label = label;
  }
}

export interface Assembled {
  /** 8 bytes per slot, little endian, ready for BPF_PROG_LOAD. */
  bytes: Buffer;
  slots: number;
  /** origins[slot] = origin of the Insn that produced that slot (both slots of an LD_IMM64). */
  origins: unknown[];
  /** The resolved Insn at each slot it starts; undefined for the second half of an LD_IMM64. */
  insnAtSlot: (Insn | undefined)[];
  /** The slot each label resolved to (subprogram starts, for BTF func_info). */
  labels: Map<string, number>;
}

function where(i: number, insn: Insn): string {
  return `instruction #${i} (code 0x${(insn.code & 0xff).toString(16).padStart(2, '0')})`;
}

function checkFields(i: number, insn: Insn): void {
  const bad = (what: string) => new AsmError(`assemble: ${where(i, insn)} has ${what}`, i);
  if (!Number.isInteger(insn.code) || insn.code < 0 || insn.code > 0xff) throw bad(`opcode ${insn.code} outside 0..255`);
  if (!Number.isInteger(insn.dst) || insn.dst < 0 || insn.dst > 15) throw bad(`dst register ${insn.dst} outside 0..15`);
  if (!Number.isInteger(insn.src) || insn.src < 0 || insn.src > 15) throw bad(`src register ${insn.src} outside 0..15`);
  if (!Number.isInteger(insn.off) || insn.off < -0x8000 || insn.off > 0x7fff) throw bad(`offset ${insn.off} outside 16 bits`);
  if (!Number.isInteger(insn.imm) || insn.imm < -0x80000000 || insn.imm > 0xffffffff) {
    throw bad(`immediate ${insn.imm} outside 32 bits`);
  }
  if (insn.imm64 !== undefined) {
    if (insn.code !== LD_IMM64_CODE) throw bad('imm64 set but is not LD_IMM64');
    if (insn.imm64 < -(1n << 63n) || insn.imm64 >= 1n << 64n) throw bad(`imm64 ${insn.imm64} outside 64 bits`);
  }
}

/** Writes one instruction (8 or 16 bytes) at byte offset `at`; returns the slots written. */
export function encodeInto(insn: Insn, buf: Buffer, at: number): number {
  buf[at] = insn.code;
  buf[at + 1] = (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4);
  if (insn.off < -0x8000 || insn.off > 0x7fff) throw new RangeError(`instruction offset ${insn.off} does not fit 16 bits`);
  putU16(buf, at + 2, insn.off);
  if (insn.code !== LD_IMM64_CODE) {
    putU32(buf, at + 4, insn.imm);
    return 1;
  }
  const v = insn.imm64 !== undefined ? BigInt.asUintN(64, insn.imm64) : BigInt(insn.imm >>> 0);
  putU32(buf, at + 4, Number(v & 0xffffffffn));
  // The second slot is an all-zero pseudo instruction carrying the high half.
  buf.fill(0, at + 8, at + 12);
  putU32(buf, at + 12, Number(v >> 32n));
  return 2;
}

/** Encodes a single already-resolved instruction. */
export function encode(insn: Insn): Buffer {
  const buf = Buffer.alloc(8 * slotCount(insn));
  if (buf.length) encodeInto(insn, buf, 0);
  return buf;
}

type Fixup = 'off' | 'imm' | 'imm64';

function fixupKind(insn: Insn): Fixup | undefined {
  if (insn.code === LD_IMM64_CODE) return insn.src === BPF_PSEUDO_FUNC ? 'imm64' : undefined;
  const cls = bpfClass(insn.code);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  if (bpfOp(insn.code) === BPF_CALL) return insn.src === BPF_PSEUDO_CALL ? 'imm' : undefined;
  if (cls === BPF_JMP32 && bpfOp(insn.code) === BPF_JA) return 'imm';
  return isJumpWithOff(insn) ? 'off' : undefined;
}

/**
 * Lays out the instructions, resolves every `target` to a slot-relative
 * offset and encodes the result. Offsets count from the slot after the
 * jump, and an LD_IMM64 counts as two slots. Throws AsmError on a duplicate
 * or unknown label, or an offset that does not fit its field.
 */
export function assemble(insns: Insn[]): Assembled {
  const labels = new Map<string, number>();
  const slotOf: number[] = new Array(insns.length);
  let slots = 0;
  insns.forEach((insn, i) => {
    if (insn.labelDef !== undefined) {
      if (labels.has(insn.labelDef)) throw new AsmError(`assemble: duplicate label "${insn.labelDef}"`, i, insn.labelDef);
      labels.set(insn.labelDef, slots);
      return;
    }
    slotOf[i] = slots;
    slots += slotCount(insn);
  });

  const bytes = Buffer.alloc(slots * 8);
  const origins: unknown[] = new Array(slots).fill(undefined);
  const insnAtSlot: (Insn | undefined)[] = new Array(slots).fill(undefined);
  insns.forEach((insn, i) => {
    if (insn.labelDef !== undefined) return;
    const slot = slotOf[i]!;
    let out: Insn = insn;
    if (insn.target !== undefined) {
      const kind = fixupKind(insn);
      if (!kind) throw new AsmError(`assemble: ${where(i, insn)} is not a jump, call or ldFunc but targets "${insn.target}"`, i, insn.target);
      const dest = labels.get(insn.target);
      if (dest === undefined) throw new AsmError(`assemble: unknown label "${insn.target}" (${where(i, insn)})`, i, insn.target);
      const rel = dest - (slot + 1);
      if (kind === 'off') {
        if (rel < -0x8000 || rel > 0x7fff) {
          throw new AsmError(`assemble: jump from slot ${slot} to label "${insn.target}" at slot ${dest} needs offset ${rel}, `
            + 'outside the 16-bit range -32768..32767 (use ja32 for long jumps)', i, insn.target);
        }
        out = { ...insn, off: rel };
      } else if (kind === 'imm') {
        out = { ...insn, imm: rel };
      } else {
        out = { ...insn, imm: rel, imm64: BigInt(rel >>> 0) };
      }
    }
    checkFields(i, out);
    encodeInto(out, bytes, slot * 8);
    insnAtSlot[slot] = out;
    origins[slot] = insn.origin;
    if (out.code === LD_IMM64_CODE) origins[slot + 1] = insn.origin;
  });
  return { bytes, slots, origins, insnAtSlot, labels };
}

/** Bytes (a multiple of 8) to instruction values; an LD_IMM64 pair becomes one Insn with imm64. */
export function decode(bytes: Buffer): Insn[] {
  if (bytes.length % 8 !== 0) throw new AsmError(`decode: ${bytes.length} bytes is not a whole number of 8-byte instructions`);
  const out: Insn[] = [];
  const n = bytes.length / 8;
  for (let s = 0; s < n; s++) {
    const at = s * 8;
    const insn: Insn = {
      code: bytes[at]!,
      dst: bytes[at + 1]! & 0x0f,
      src: bytes[at + 1]! >> 4,
      off: bytes.readInt16LE(at + 2),
      imm: bytes.readInt32LE(at + 4),
    };
    if (insn.code === LD_IMM64_CODE) {
      if (s + 1 >= n) throw new AsmError(`decode: LD_IMM64 at slot ${s} is missing its second half`);
      const lo = BigInt(bytes.readUInt32LE(at + 4));
      const hi = BigInt(bytes.readUInt32LE(at + 12));
      insn.imm64 = (hi << 32n) | lo;
      s++;
    }
    out.push(insn);
  }
  return out;
}
