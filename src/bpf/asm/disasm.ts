// Text form of instructions, in the spelling of the kernel's
// kernel/bpf/disasm.c as shown by `bpftool prog dump xlated`, so our dumps
// can be compared line by line with the kernel's view of a loaded program.
// The only departures are the ones bpftool itself makes through callbacks:
// map references print the fd we hold (or a name), and a helper call prints
// the helper's name where bpftool would print the kernel symbol.
import {
  BPF_ABS, BPF_ADD, BPF_ADDR_PERCPU, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B,
  BPF_CALL, BPF_CMPXCHG, BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JCOND,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE,
  BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MAY_GOTO, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL,
  BPF_NEG, BPF_OR, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_RSH, BPF_ST, BPF_STORE_REL, BPF_STX,
  BPF_SUB, BPF_TO_BE, BPF_W, BPF_X, BPF_XCHG, BPF_XOR, LD_IMM64_CODE, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc,
} from './insn.js';
import type { Insn } from './insn.js';
import { assemble, decode } from './assemble.js';
import type { Assembled } from './assemble.js';
import { helperName } from './helpers.js';

export interface FormatOptions {
  /** Text for a map fd inside `map[...]`; default `fd:N`. */
  mapName?: (fd: number) => string;
}

export interface DisasmOptions extends FormatOptions {
  /** Source text for an origin, printed as a `; ...` line where a new origin starts. */
  annotate?: (origin: unknown) => string | undefined;
  /** Also print each instruction's bytes on a following line, as `bpftool ... opcodes` does. */
  opcodes?: boolean;
}

export interface ParseOptions {
  /** Inverse of FormatOptions.mapName, for `map[NAME]` spellings. */
  mapFd?: (name: string) => number | undefined;
}

// String tables of disasm.c, indexed by op >> 4 or size >> 3. A hole prints
// as glibc prints a NULL %s, which is what the kernel's table would show.
const ALU_STR: (string | undefined)[] = [];
ALU_STR[BPF_ADD >> 4] = '+=';
ALU_STR[BPF_SUB >> 4] = '-=';
ALU_STR[BPF_MUL >> 4] = '*=';
ALU_STR[BPF_DIV >> 4] = '/=';
ALU_STR[BPF_OR >> 4] = '|=';
ALU_STR[BPF_AND >> 4] = '&=';
ALU_STR[BPF_LSH >> 4] = '<<=';
ALU_STR[BPF_RSH >> 4] = '>>=';
ALU_STR[BPF_NEG >> 4] = 'neg';
ALU_STR[BPF_MOD >> 4] = '%=';
ALU_STR[BPF_XOR >> 4] = '^=';
ALU_STR[BPF_MOV >> 4] = '=';
ALU_STR[BPF_ARSH >> 4] = 's>>=';
ALU_STR[BPF_END >> 4] = 'endian';

const ALU_SIGNED_STR: (string | undefined)[] = [];
ALU_SIGNED_STR[BPF_DIV >> 4] = 's/=';
ALU_SIGNED_STR[BPF_MOD >> 4] = 's%=';

const MOVSX_STR: (string | undefined)[] = ['(s8)', '(s16)', undefined, '(s32)'];

const ATOMIC_ALU_STR: (string | undefined)[] = [];
ATOMIC_ALU_STR[BPF_ADD >> 4] = 'add';
ATOMIC_ALU_STR[BPF_AND >> 4] = 'and';
ATOMIC_ALU_STR[BPF_OR >> 4] = 'or';
ATOMIC_ALU_STR[BPF_XOR >> 4] = 'xor';

const LDST_STR: string[] = [];
LDST_STR[BPF_W >> 3] = 'u32';
LDST_STR[BPF_H >> 3] = 'u16';
LDST_STR[BPF_B >> 3] = 'u8';
LDST_STR[BPF_DW >> 3] = 'u64';

const LDSX_STR: (string | undefined)[] = [];
LDSX_STR[BPF_W >> 3] = 's32';
LDSX_STR[BPF_H >> 3] = 's16';
LDSX_STR[BPF_B >> 3] = 's8';

const JMP_STR: (string | undefined)[] = [];
JMP_STR[BPF_JA >> 4] = 'jmp';
JMP_STR[BPF_JEQ >> 4] = '==';
JMP_STR[BPF_JGT >> 4] = '>';
JMP_STR[BPF_JLT >> 4] = '<';
JMP_STR[BPF_JGE >> 4] = '>=';
JMP_STR[BPF_JLE >> 4] = '<=';
JMP_STR[BPF_JSET >> 4] = '&';
JMP_STR[BPF_JNE >> 4] = '!=';
JMP_STR[BPF_JSGT >> 4] = 's>';
JMP_STR[BPF_JSLT >> 4] = 's<';
JMP_STR[BPF_JSGE >> 4] = 's>=';
JMP_STR[BPF_JSLE >> 4] = 's<=';
JMP_STR[BPF_CALL >> 4] = 'call';
JMP_STR[BPF_EXIT >> 4] = 'exit';

const str = (s: string | undefined): string => s ?? '(null)';
const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
/** printf's %+d. */
const signed = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);

function imm64Of(insn: Insn): bigint {
  return insn.imm64 !== undefined ? BigInt.asUintN(64, insn.imm64) : BigInt(insn.imm >>> 0);
}

function ldImm64Text(insn: Insn, opts: FormatOptions): string {
  const v = imm64Of(insn);
  const lo = Number(v & 0xffffffffn);
  const hi = Number(v >> 32n);
  const map = (fd: number) => (opts.mapName ? opts.mapName(fd) : `fd:${fd}`);
  switch (insn.src) {
    case BPF_PSEUDO_MAP_FD: return `map[${map(lo)}]`;
    case BPF_PSEUDO_MAP_VALUE: return `map[${map(lo)}][0]+${hi}`;
    case BPF_PSEUDO_FUNC: return `subprog[${signed(lo | 0)}]`;
    // bpftool prints these as plain numbers; a distinct spelling keeps the
    // text invertible.
    case BPF_PSEUDO_MAP_IDX: return `map[idx:${lo}]`;
    case BPF_PSEUDO_MAP_IDX_VALUE: return `map[idx:${lo}][0]+${hi}`;
    case BPF_PSEUDO_BTF_ID: return hi === 0 ? `btf_id[${lo}]` : `btf_id[${lo}][fd:${hi}]`;
    default: return `0x${v.toString(16)}`;
  }
}

function callName(insn: Insn): string {
  if (insn.src === 0) {
    const name = helperName(insn.imm);
    return name !== undefined ? `bpf_${name}` : 'unknown';
  }
  if (insn.src === BPF_PSEUDO_KFUNC_CALL) return 'kernel-function';
  return 'unknown';
}

/** One instruction without its slot number, e.g. `(bf) r6 = r1`. */
export function formatInsn(insn: Insn, opts: FormatOptions = {}): string {
  const code = insn.code & 0xff;
  const c = `(${hex2(code)})`;
  const cls = bpfClass(code);
  const { dst, src, off, imm } = insn;

  if (cls === BPF_ALU || cls === BPF_ALU64) {
    const r = cls === BPF_ALU ? 'w' : 'r';
    const op = bpfOp(code);
    if (op === BPF_END) {
      if (cls === BPF_ALU64) return `${c} r${dst} = bswap${imm} r${dst}`;
      return `${c} r${dst} = ${bpfSrc(code) === BPF_TO_BE ? 'be' : 'le'}${imm} r${dst}`;
    }
    if (op === BPF_NEG) return `${c} ${r}${dst} = -${r}${dst}`;
    if (code === (BPF_ALU64 | BPF_MOV | BPF_X) && off === BPF_ADDR_SPACE_CAST) {
      return `${c} r${dst} = addr_space_cast(r${src}, ${(imm >>> 16) & 0xffff}, ${imm & 0xffff})`;
    }
    if (code === (BPF_ALU64 | BPF_MOV | BPF_X) && off === BPF_ADDR_PERCPU) {
      return `${c} r${dst} = &(void __percpu *)(r${src})`;
    }
    const sdivSmod = (op === BPF_DIV || op === BPF_MOD) && off === 1;
    const opStr = str(sdivSmod ? ALU_SIGNED_STR[op >> 4] : ALU_STR[op >> 4]);
    if (bpfSrc(code) === BPF_X) {
      const movsx = op === BPF_MOV && (off === 8 || off === 16 || off === 32) ? str(MOVSX_STR[(off >> 3) - 1]) : '';
      return `${c} ${r}${dst} ${opStr} ${movsx}${r}${src}`;
    }
    return `${c} ${r}${dst} ${opStr} ${imm | 0}`;
  }

  if (cls === BPF_STX) {
    const sz = str(LDST_STR[bpfSize(code) >> 3]);
    const mode = bpfMode(code);
    if (mode === BPF_MEM) return `${c} *(${sz} *)(r${dst} ${signed(off)}) = r${src}`;
    if (mode === BPF_ATOMIC) {
      const w64 = bpfSize(code) === BPF_DW ? '64' : '';
      const mem = `(${sz} *)(r${dst} ${signed(off)})`;
      if (imm === BPF_ADD || imm === BPF_AND || imm === BPF_OR || imm === BPF_XOR) {
        return `${c} lock *${mem} ${str(ALU_STR[imm >> 4])} r${src}`;
      }
      if ((imm & ~0xf0) === BPF_FETCH && ATOMIC_ALU_STR[(imm & 0xf0) >> 4] !== undefined) {
        return `${c} r${src} = atomic${w64}_fetch_${ATOMIC_ALU_STR[(imm & 0xf0) >> 4]}(${mem}, r${src})`;
      }
      if (imm === BPF_CMPXCHG) return `${c} r0 = atomic${w64}_cmpxchg(${mem}, r0, r${src})`;
      if (imm === BPF_XCHG) return `${c} r${src} = atomic${w64}_xchg(${mem}, r${src})`;
      if (imm === BPF_LOAD_ACQ) return `${c} r${dst} = load_acquire((${sz} *)(r${src} ${signed(off)}))`;
      if (imm === BPF_STORE_REL) return `${c} store_release(${mem}, r${src})`;
    }
    return `BUG_${hex2(code)}`;
  }

  if (cls === BPF_ST) {
    const mode = bpfMode(code);
    if (mode === BPF_MEM) return `${c} *(${str(LDST_STR[bpfSize(code) >> 3])} *)(r${dst} ${signed(off)}) = ${imm | 0}`;
    // BPF_NOSPEC: a verifier-inserted speculation barrier, no UAPI name.
    if (mode === 0xc0) return `${c} nospec`;
    return `BUG_st_${hex2(code)}`;
  }

  if (cls === BPF_LDX) {
    const mode = bpfMode(code);
    if (mode !== BPF_MEM && mode !== BPF_MEMSX) return `BUG_ldx_${hex2(code)}`;
    const sz = str(mode === BPF_MEM ? LDST_STR[bpfSize(code) >> 3] : LDSX_STR[bpfSize(code) >> 3]);
    return `${c} r${dst} = *(${sz} *)(r${src} ${signed(off)})`;
  }

  if (cls === BPF_LD) {
    const mode = bpfMode(code);
    const sz = str(LDST_STR[bpfSize(code) >> 3]);
    if (mode === BPF_ABS) return `${c} r0 = *(${sz} *)skb[${imm | 0}]`;
    if (mode === BPF_IND) return `${c} r0 = *(${sz} *)skb[r${src} + ${imm | 0}]`;
    if (mode === BPF_IMM && bpfSize(code) === BPF_DW) return `${c} r${dst} = ${ldImm64Text(insn, opts)}`;
    return `BUG_ld_${hex2(code)}`;
  }

  // BPF_JMP / BPF_JMP32
  const op = bpfOp(code);
  if (op === BPF_CALL) {
    if (src === BPF_PSEUDO_CALL) return `${c} call pc${signed(imm | 0)}`;
    return `${c} call ${callName(insn)}#${imm | 0}`;
  }
  if (code === (BPF_JMP | BPF_JA)) return `${c} goto pc${signed(off)}`;
  if (code === (BPF_JMP | BPF_JCOND) && src === BPF_MAY_GOTO) return `${c} may_goto pc${signed(off)}`;
  if (code === (BPF_JMP32 | BPF_JA)) return `${c} gotol pc${signed(imm | 0)}`;
  if (code === (BPF_JMP | BPF_EXIT)) return `${c} exit`;
  const r = cls === BPF_JMP32 ? 'w' : 'r';
  if (bpfSrc(code) === BPF_X) return `${c} if ${r}${dst} ${str(JMP_STR[op >> 4])} ${r}${src} goto pc${signed(off)}`;
  return `${c} if ${r}${dst} ${str(JMP_STR[op >> 4])} 0x${(imm >>> 0).toString(16)} goto pc${signed(off)}`;
}

/** bpftool's `% 4d: ` slot prefix. */
export function slotPrefix(slot: number): string {
  return `${(' ' + slot).padStart(4)}: `;
}

function opcodeBytes(insn: Insn): string {
  const buf = Buffer.alloc(insn.code === LD_IMM64_CODE ? 16 : 8);
  buf[0] = insn.code & 0xff;
  buf[1] = (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4);
  buf.writeInt16LE(insn.off, 2);
  if (buf.length === 8) buf.writeInt32LE(insn.imm | 0, 4);
  else {
    const v = imm64Of(insn);
    buf.writeUInt32LE(Number(v & 0xffffffffn), 4);
    buf.writeUInt32LE(Number(v >> 32n), 12);
  }
  const hex = (b: Buffer) => [...b].map(hex2).join(' ');
  return buf.length === 8 ? hex(buf) : `${hex(buf.subarray(0, 8))} ${hex(buf.subarray(8))}`;
}

function isAssembled(x: unknown): x is Assembled {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x) && 'insnAtSlot' in x;
}

/**
 * The whole program, one line per instruction, each line ending in '\n',
 * numbered by slot as `bpftool prog dump xlated` numbers it. Insn[] input is
 * assembled first (labels resolved); its comments follow their instruction
 * as `  ; text`, and with `annotate` each change of origin is introduced by
 * a `; text` line, the way bpftool shows BTF line info.
 */
export function disassemble(input: Buffer | Insn[] | Assembled, opts: DisasmOptions = {}): string {
  const items: { slot: number; insn: Insn; origin: unknown }[] = [];
  if (Buffer.isBuffer(input)) {
    let slot = 0;
    for (const insn of decode(input)) {
      items.push({ slot, insn, origin: undefined });
      slot += insn.code === LD_IMM64_CODE ? 2 : 1;
    }
  } else {
    const asm = isAssembled(input) ? input : assemble(input);
    asm.insnAtSlot.forEach((insn, slot) => {
      if (insn) items.push({ slot, insn, origin: asm.origins[slot] });
    });
  }

  let out = '';
  let lastOrigin: unknown = undefined;
  let lastNote: string | undefined;
  let first = true;
  for (const { slot, insn, origin } of items) {
    if (opts.annotate && (first || origin !== lastOrigin)) {
      const note = origin === undefined ? undefined : opts.annotate(origin);
      // Fresh origin objects for the same construct would otherwise repeat the line.
      if (note !== undefined && note !== lastNote) {
        for (const line of note.split('\n')) out += `; ${line}\n`;
        lastNote = note;
      }
    }
    first = false;
    lastOrigin = origin;
    out += slotPrefix(slot) + formatInsn(insn, opts);
    if (insn.comment !== undefined && insn.comment !== '') out += `  ; ${insn.comment.replace(/\n/g, ' ')}`;
    out += '\n';
    if (opts.opcodes) out += `       ${opcodeBytes(insn)}\n`;
  }
  return out;
}

// ---- parsing: the inverse of formatInsn ----

const SIZE_BY_NAME: Record<string, number> = { u8: BPF_B, u16: BPF_H, u32: BPF_W, u64: BPF_DW };
const SX_SIZE_BY_NAME: Record<string, number> = { s8: BPF_B, s16: BPF_H, s32: BPF_W };

const ALU_BY_STR: Record<string, { op: number; off: number }> = {};
ALU_STR.forEach((s, i) => { if (s && i !== BPF_NEG >> 4 && i !== BPF_END >> 4) ALU_BY_STR[s] = { op: i << 4, off: 0 }; });
ALU_BY_STR['s/='] = { op: BPF_DIV, off: 1 };
ALU_BY_STR['s%='] = { op: BPF_MOD, off: 1 };

const JMP_BY_STR: Record<string, number> = {};
JMP_BY_STR['=='] = BPF_JEQ; JMP_BY_STR['!='] = BPF_JNE; JMP_BY_STR['>'] = BPF_JGT; JMP_BY_STR['>='] = BPF_JGE;
JMP_BY_STR['<'] = BPF_JLT; JMP_BY_STR['<='] = BPF_JLE; JMP_BY_STR['&'] = BPF_JSET; JMP_BY_STR['s>'] = BPF_JSGT;
JMP_BY_STR['s>='] = BPF_JSGE; JMP_BY_STR['s<'] = BPF_JSLT; JMP_BY_STR['s<='] = BPF_JSLE;

const LOCK_BY_STR: Record<string, number> = { '+=': BPF_ADD, '&=': BPF_AND, '|=': BPF_OR, '^=': BPF_XOR };
const FETCH_BY_STR: Record<string, number> = { add: BPF_ADD, and: BPF_AND, or: BPF_OR, xor: BPF_XOR };

const MEM = String.raw`\((u8|u16|u32|u64) \*\)\(r(\d+) ([+-]\d+)\)`;
const num = (s: string): number => Number.parseInt(s, 10);

function ins(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

function ld64Insn(dst: number, src: number, v: bigint): Insn {
  const u = BigInt.asUintN(64, v);
  return { code: LD_IMM64_CODE, dst, src, off: 0, imm: Number(BigInt.asIntN(32, u)), imm64: u };
}

function parseBody(t: string, opts: ParseOptions): Insn | undefined {
  let m: RegExpMatchArray | null;
  if (t === 'exit') return ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  if ((m = t.match(/^goto pc([+-]\d+)$/))) return ins(BPF_JMP | BPF_JA, 0, 0, num(m[1]!), 0);
  if ((m = t.match(/^gotol pc([+-]\d+)$/))) return ins(BPF_JMP32 | BPF_JA, 0, 0, 0, num(m[1]!));
  if ((m = t.match(/^may_goto pc([+-]\d+)$/))) return ins(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, num(m[1]!), 0);
  if ((m = t.match(/^call pc([+-]\d+)$/))) return ins(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, num(m[1]!));
  if ((m = t.match(/^call kernel-function#(-?\d+)$/))) return ins(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, num(m[1]!));
  // The number after '#' is the immediate; the name may be a kernel symbol (bpftool).
  if ((m = t.match(/^call \S+#(-?\d+)$/))) return ins(BPF_JMP | BPF_CALL, 0, 0, 0, num(m[1]!));

  if ((m = t.match(/^if ([rw])(\d+) (\S+) ([rw])(\d+) goto pc([+-]\d+)$/))) {
    const op = JMP_BY_STR[m[3]!];
    if (op === undefined || m[1] !== m[4]) return undefined;
    return ins((m[1] === 'w' ? BPF_JMP32 : BPF_JMP) | op | BPF_X, num(m[2]!), num(m[5]!), num(m[6]!), 0);
  }
  if ((m = t.match(/^if ([rw])(\d+) (\S+) 0x([0-9a-f]+) goto pc([+-]\d+)$/))) {
    const op = JMP_BY_STR[m[3]!];
    if (op === undefined) return undefined;
    return ins((m[1] === 'w' ? BPF_JMP32 : BPF_JMP) | op, num(m[2]!), 0, num(m[5]!), Number.parseInt(m[4]!, 16) | 0);
  }

  if ((m = t.match(new RegExp(`^lock \\*${MEM} (\\S+) r(\\d+)$`)))) {
    const op = LOCK_BY_STR[m[4]!];
    if (op === undefined) return undefined;
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[1]!]!, num(m[2]!), num(m[5]!), num(m[3]!), op);
  }
  if ((m = t.match(new RegExp(`^r(\\d+) = atomic(64)?_fetch_(add|and|or|xor)\\(${MEM}, r(\\d+)\\)$`)))) {
    if (m[1] !== m[7]) return undefined;
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[4]!]!, num(m[5]!), num(m[7]!), num(m[6]!),
      FETCH_BY_STR[m[3]!]! | BPF_FETCH);
  }
  if ((m = t.match(new RegExp(`^r0 = atomic(64)?_cmpxchg\\(${MEM}, r0, r(\\d+)\\)$`)))) {
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[2]!]!, num(m[3]!), num(m[5]!), num(m[4]!), BPF_CMPXCHG);
  }
  if ((m = t.match(new RegExp(`^r(\\d+) = atomic(64)?_xchg\\(${MEM}, r(\\d+)\\)$`)))) {
    if (m[1] !== m[6]) return undefined;
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[3]!]!, num(m[4]!), num(m[6]!), num(m[5]!), BPF_XCHG);
  }
  if ((m = t.match(new RegExp(`^r(\\d+) = load_acquire\\(${MEM}\\)$`)))) {
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[2]!]!, num(m[1]!), num(m[3]!), num(m[4]!), BPF_LOAD_ACQ);
  }
  if ((m = t.match(new RegExp(`^store_release\\(${MEM}, r(\\d+)\\)$`)))) {
    return ins(BPF_STX | BPF_ATOMIC | SIZE_BY_NAME[m[1]!]!, num(m[2]!), num(m[4]!), num(m[3]!), BPF_STORE_REL);
  }
  if ((m = t.match(new RegExp(`^\\*${MEM} = r(\\d+)$`)))) {
    return ins(BPF_STX | BPF_MEM | SIZE_BY_NAME[m[1]!]!, num(m[2]!), num(m[4]!), num(m[3]!), 0);
  }
  if ((m = t.match(new RegExp(`^\\*${MEM} = (-?\\d+)$`)))) {
    return ins(BPF_ST | BPF_MEM | SIZE_BY_NAME[m[1]!]!, num(m[2]!), 0, num(m[3]!), num(m[4]!));
  }
  if (t === 'nospec') return ins(BPF_ST | 0xc0, 0, 0, 0, 0);
  if ((m = t.match(/^r(\d+) = \*\(([us]\d+) \*\)\(r(\d+) ([+-]\d+)\)$/))) {
    const u = SIZE_BY_NAME[m[2]!];
    const s = SX_SIZE_BY_NAME[m[2]!];
    const code = u !== undefined ? BPF_LDX | BPF_MEM | u : s !== undefined ? BPF_LDX | BPF_MEMSX | s : undefined;
    if (code === undefined) return undefined;
    return ins(code, num(m[1]!), num(m[3]!), num(m[4]!), 0);
  }
  if ((m = t.match(/^r0 = \*\((u8|u16|u32|u64) \*\)skb\[(-?\d+)\]$/))) {
    return ins(BPF_LD | BPF_ABS | SIZE_BY_NAME[m[1]!]!, 0, 0, 0, num(m[2]!));
  }
  if ((m = t.match(/^r0 = \*\((u8|u16|u32|u64) \*\)skb\[r(\d+) \+ (-?\d+)\]$/))) {
    return ins(BPF_LD | BPF_IND | SIZE_BY_NAME[m[1]!]!, 0, num(m[2]!), 0, num(m[3]!));
  }
  if ((m = t.match(/^r(\d+) = (le|be)(\d+) r(\d+)$/))) {
    if (m[1] !== m[4]) return undefined;
    return ins(BPF_ALU | BPF_END | (m[2] === 'be' ? BPF_TO_BE : 0), num(m[1]!), 0, 0, num(m[3]!));
  }
  if ((m = t.match(/^r(\d+) = bswap(\d+) r(\d+)$/))) {
    if (m[1] !== m[3]) return undefined;
    return ins(BPF_ALU64 | BPF_END, num(m[1]!), 0, 0, num(m[2]!));
  }
  if ((m = t.match(/^([rw])(\d+) = -([rw])(\d+)$/))) {
    if (m[1] !== m[3] || m[2] !== m[4]) return undefined;
    return ins((m[1] === 'w' ? BPF_ALU : BPF_ALU64) | BPF_NEG, num(m[2]!), 0, 0, 0);
  }
  if ((m = t.match(/^r(\d+) = addr_space_cast\(r(\d+), (\d+), (\d+)\)$/))) {
    return ins(BPF_ALU64 | BPF_MOV | BPF_X, num(m[1]!), num(m[2]!), BPF_ADDR_SPACE_CAST, ((num(m[3]!) << 16) | num(m[4]!)) | 0);
  }
  if ((m = t.match(/^r(\d+) = &\(void __percpu \*\)\(r(\d+)\)$/))) {
    return ins(BPF_ALU64 | BPF_MOV | BPF_X, num(m[1]!), num(m[2]!), BPF_ADDR_PERCPU, 0);
  }

  // LD_IMM64 forms.
  if ((m = t.match(/^r(\d+) = 0x([0-9a-f]+)$/))) return ld64Insn(num(m[1]!), 0, BigInt('0x' + m[2]!));
  if ((m = t.match(/^r(\d+) = subprog\[([+-]\d+)\]$/))) return ld64Insn(num(m[1]!), BPF_PSEUDO_FUNC, BigInt(num(m[2]!) >>> 0));
  if ((m = t.match(/^r(\d+) = btf_id\[(\d+)\](?:\[fd:(\d+)\])?$/))) {
    return ld64Insn(num(m[1]!), BPF_PSEUDO_BTF_ID, (BigInt(m[3] ?? 0) << 32n) | BigInt(m[2]!));
  }
  if ((m = t.match(/^r(\d+) = map\[idx:(\d+)\](?:\[0\]\+(\d+))?$/))) {
    const value = m[3] !== undefined;
    return ld64Insn(num(m[1]!), value ? BPF_PSEUDO_MAP_IDX_VALUE : BPF_PSEUDO_MAP_IDX,
      (BigInt(m[3] ?? 0) << 32n) | BigInt(m[2]!));
  }
  if ((m = t.match(/^r(\d+) = map\[(.+?)\](?:\[0\]\+(\d+))?$/))) {
    const ref = m[2]!;
    const fdm = ref.match(/^(?:fd|id):(\d+)$/);
    const fd = fdm ? num(fdm[1]!) : opts.mapFd?.(ref);
    if (fd === undefined) throw new Error(`parseInsnText: cannot resolve map reference "${ref}" (pass opts.mapFd)`);
    const value = m[3] !== undefined;
    return ld64Insn(num(m[1]!), value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD, (BigInt(m[3] ?? 0) << 32n) | BigInt(fd));
  }

  if ((m = t.match(/^([rw])(\d+) (\S+) (\((?:s8|s16|s32)\))?([rw])(\d+)$/))) {
    const a = ALU_BY_STR[m[3]!];
    if (a === undefined || m[1] !== m[5]) return undefined;
    let off = a.off;
    if (m[4] !== undefined) {
      if (a.op !== BPF_MOV) return undefined;
      off = num(m[4].slice(2, -1));
    }
    return ins((m[1] === 'w' ? BPF_ALU : BPF_ALU64) | a.op | BPF_X, num(m[2]!), num(m[6]!), off, 0);
  }
  if ((m = t.match(/^([rw])(\d+) (\S+) (-?\d+)$/))) {
    const a = ALU_BY_STR[m[3]!];
    if (a === undefined) return undefined;
    return ins((m[1] === 'w' ? BPF_ALU : BPF_ALU64) | a.op, num(m[2]!), 0, a.off, num(m[4]!));
  }
  return undefined;
}

/**
 * Parses one line of disassembly back into an instruction: the slot number
 * (`  12: `), the opcode in parentheses and a trailing `; comment` are all
 * optional; when the opcode is present it must agree with the text.
 */
export function parseInsnText(line: string, opts: ParseOptions = {}): Insn {
  let t = line.trim();
  const semi = t.indexOf(';');
  if (semi >= 0) t = t.slice(0, semi).trim();
  t = t.replace(/^\d+:\s*/, '');
  let code: number | undefined;
  const cm = t.match(/^\(([0-9a-f]{2})\)\s*/);
  if (cm) {
    code = Number.parseInt(cm[1]!, 16);
    t = t.slice(cm[0].length);
  }
  const insn = parseBody(t, opts);
  if (!insn) throw new Error(`parseInsnText: cannot parse "${line}"`);
  if (code !== undefined && code !== insn.code) {
    throw new Error(`parseInsnText: opcode (${hex2(code)}) does not match the text, which encodes (${hex2(insn.code)}): "${line}"`);
  }
  return insn;
}
