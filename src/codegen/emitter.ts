// The code generator's primitives: virtual registers, stack and scratch
// allocation, labels, map references and helper calls. Expression and
// statement emitters (and every builtin) are written on these, never on raw
// register numbers, so the allocation policy lives in one place.
import * as A from '../bpf/asm/index.js';
import type { Insn, Size } from '../bpf/asm/index.js';
import type { Loc } from '../lang/ast.js';

/**
 * A value held in a virtual register. Its home is a callee-saved register
 * when one is free, else an 8-byte stack slot: helper calls clobber r0-r5, so
 * homes never use them and values survive calls without bookkeeping.
 */
export interface VReg {
  readonly id: number;
  home: { reg: number } | { slot: number };
}

/** Where an aggregate (string, tuple, struct...) lives: the per-CPU scratch area, the stack, or behind a pointer. */
export type Mem =
  | { base: 'scratch'; off: number }
  | { base: 'stack'; off: number }
  | { base: 'ptr'; v: VReg; off: number };

/** Registers with fixed roles for the whole program. */
export const CTX = A.R6; // the probe's context pointer (r1 at entry)
export const SCRATCH = A.R9; // base of this CPU's scratch area
const HOME_REGS = [A.R7, A.R8];

export const MAX_STACK = 512;

export interface MapReloc {
  /** Index into insns of the LD_IMM64 to patch with the map's fd. */
  index: number;
  map: string;
}

export class Emitter {
  readonly insns: Insn[] = [];
  readonly relocs: MapReloc[] = [];
  private origin: Loc | undefined;
  private originText: string | undefined;
  private nextV = 0;
  private freeRegs = [...HOME_REGS];
  private freeSlots: number[] = [];
  /** Bytes of stack in use (grows downwards from r10). */
  private stackTop = 0;
  stackMax = 0;
  private scratchTop = 0;
  scratchMax = 0;
  private nextLabel = 0;
  /** Stack of loop contexts for break/continue. */
  readonly loops: { brk: string; cont: string }[] = [];
  /**
   * Entry labels of the subprograms (map-iteration callbacks) appended after
   * the main program, in order: the loader describes each in BTF func_info.
   */
  readonly funcs: string[] = [];

  /** `labelPrefix` keeps the labels of a subprogram emitted separately distinct from its caller's. */
  constructor(readonly name: string, private readonly labelPrefix = '') {}

  /** Sets the source construct that following instructions are attributed to. */
  at<T>(loc: Loc | undefined, text: string | undefined, fn: () => T): T {
    const saved = [this.origin, this.originText] as const;
    if (loc) {
      this.origin = loc;
      this.originText = text;
    }
    try {
      return fn();
    } finally {
      [this.origin, this.originText] = saved;
    }
  }

  /** The source range instructions are currently attributed to. */
  currentOrigin(): Loc | undefined {
    return this.origin;
  }

  emit(...insns: Insn[]): void {
    for (const i of insns) {
      if (this.origin && i.origin === undefined) i.origin = { loc: this.origin, text: this.originText };
      this.insns.push(i);
    }
  }

  newLabel(hint = 'L'): string {
    return `${this.labelPrefix}${hint}${this.nextLabel++}`;
  }
  label(name: string): void {
    this.insns.push(A.label(name));
  }

  // ------------------------------------------------------------- registers

  vreg(): VReg {
    const id = this.nextV++;
    const reg = this.freeRegs.shift();
    if (reg !== undefined) return { id, home: { reg } };
    const slot = this.freeSlots.pop() ?? this.stackAlloc(8, 8);
    return { id, home: { slot } };
  }

  free(v: VReg | undefined): void {
    if (!v) return;
    if ('reg' in v.home) {
      if (!this.freeRegs.includes(v.home.reg)) this.freeRegs.unshift(v.home.reg);
    } else if (!this.freeSlots.includes(v.home.slot)) this.freeSlots.push(v.home.slot);
  }

  /** Copies a virtual register into physical register `r` (r0-r5 as a work register). */
  get(v: VReg, r: number): void {
    if ('reg' in v.home) {
      if (v.home.reg !== r) this.emit(A.mov64Reg(r, v.home.reg));
    } else this.emit(A.ldx('dw', r, A.R10, v.home.slot));
  }

  /** Stores physical register `r` into the virtual register's home. */
  set(v: VReg, r: number): void {
    if ('reg' in v.home) {
      if (v.home.reg !== r) this.emit(A.mov64Reg(v.home.reg, r));
    } else this.emit(A.stx('dw', A.R10, v.home.slot, r));
  }

  /** A new vreg holding the constant. */
  constant(value: bigint | number): VReg {
    const v = this.vreg();
    this.loadConst(A.R0, value);
    this.set(v, A.R0);
    return v;
  }

  loadConst(r: number, value: bigint | number): void {
    const b = BigInt.asIntN(64, BigInt(value));
    if (b >= -(2n ** 31n) && b < 2n ** 31n) this.emit(A.mov64Imm(r, Number(b)));
    else this.emit(A.ldImm64(r, b));
  }

  // ----------------------------------------------------------------- memory

  /** Reserves `size` bytes of stack, returning the (negative) offset from r10. */
  stackAlloc(size: number, align = 8): number {
    this.stackTop = Math.ceil((this.stackTop + size) / align) * align;
    if (this.stackTop > this.stackMax) this.stackMax = this.stackTop;
    return -this.stackTop;
  }

  /** Reserves `size` bytes in this CPU's scratch area (for strings and other aggregates too big for the stack). */
  scratch(size: number): Mem {
    const off = Math.ceil(this.scratchTop / 8) * 8;
    this.scratchTop = off + Math.ceil(size / 8) * 8;
    if (this.scratchTop > this.scratchMax) this.scratchMax = this.scratchTop;
    return { base: 'scratch', off };
  }

  /** Scratch marks let statements reuse space once their temporaries are dead. */
  scratchMark(): number {
    return this.scratchTop;
  }
  scratchRelease(mark: number): void {
    this.scratchTop = mark;
  }

  /** Loads the address of `m` into physical register `r`. */
  addr(m: Mem, r: number): void {
    if (m.base === 'scratch') {
      this.emit(A.mov64Reg(r, SCRATCH));
      if (m.off) this.emit(A.alu64Imm('add', r, m.off));
    } else if (m.base === 'stack') {
      this.emit(A.mov64Reg(r, A.R10), A.alu64Imm('add', r, m.off));
    } else {
      this.get(m.v, r);
      if (m.off) this.emit(A.alu64Imm('add', r, m.off));
    }
  }

  /** Base register and offset to address `m` directly in a load/store, using `tmp` when needed. */
  private baseOf(m: Mem, tmp: number): [number, number] {
    if (m.base === 'scratch') return [SCRATCH, m.off];
    if (m.base === 'stack') return [A.R10, m.off];
    if ('reg' in m.v.home) return [m.v.home.reg, m.off];
    this.get(m.v, tmp);
    return [tmp, m.off];
  }

  load(size: Size, r: number, m: Mem, extra = 0, signed = false): void {
    const [b, o] = this.baseOf(m, r);
    this.emit(A.ldx(size, r, b, o + extra));
    if (signed && size !== 'dw') this.signExtend(r, size);
  }

  /**
   * Sign-extends the low `size` bytes of r in place. Shifts rather than the
   * sign-extending load of cpu v4, which kernels before 6.6 refuse.
   */
  signExtend(r: number, size: Size): void {
    const bits = size === 'b' ? 56 : size === 'h' ? 48 : size === 'w' ? 32 : 0;
    if (bits) this.emit(A.alu64Imm('lsh', r, bits), A.alu64Imm('arsh', r, bits));
  }

  store(size: Size, m: Mem, extra: number, r: number, tmp = A.R5): void {
    const [b, o] = this.baseOf(m, tmp);
    this.emit(A.stx(size, b, o + extra, r));
  }

  storeImm(size: Size, m: Mem, extra: number, imm: number, tmp = A.R5): void {
    const [b, o] = this.baseOf(m, tmp);
    this.emit(A.st(size, b, o + extra, imm));
  }

  offset(m: Mem, extra: number): Mem {
    return { ...m, off: m.off + extra } as Mem;
  }

  /** Zeroes `size` bytes at m (size a multiple of 8 uses 8-byte stores). */
  zero(m: Mem, size: number): void {
    if (size > 256) {
      // Long zero runs: bpf_probe_read_kernel from a NULL source fails but
      // zero-fills the destination, which is far fewer instructions than stores.
      this.addr(m, A.R1);
      this.emit(A.mov64Imm(A.R2, size), A.mov64Imm(A.R3, 0));
      this.call('probe_read_kernel');
      return;
    }
    let i = 0;
    for (; i + 8 <= size; i += 8) this.storeImm('dw', m, i, 0);
    for (; i + 4 <= size; i += 4) this.storeImm('w', m, i, 0);
    for (; i < size; i++) this.storeImm('b', m, i, 0);
  }

  /** Copies `size` bytes between two memory places. */
  copy(dst: Mem, src: Mem, size: number): void {
    if (size > 128) {
      this.addr(dst, A.R1);
      this.emit(A.mov64Imm(A.R2, size));
      this.addr(src, A.R3);
      this.call('probe_read_kernel');
      return;
    }
    let i = 0;
    for (; i + 8 <= size; i += 8) {
      this.load('dw', A.R0, src, i);
      this.store('dw', dst, i, A.R0, A.R4);
    }
    for (; i < size; i++) {
      this.load('b', A.R0, src, i);
      this.store('b', dst, i, A.R0, A.R4);
    }
  }

  // ------------------------------------------------------------ helpers, maps

  call(helper: string | number): void {
    this.emit(A.call(helper));
  }

  /** r`r` = the map's fd (patched at load time). */
  mapFd(r: number, map: string): void {
    this.relocs.push({ index: this.insns.length, map });
    const i = A.ldMapFd(r, 0);
    i.comment = map.startsWith('__') ? map.slice(2) : `@${map}`;
    this.emit(i);
  }

  /**
   * Drops instructions no path from the entry reaches (code after exit() or
   * return in a block): the verifier rejects unreachable instructions, while
   * bpftrace's programs may contain them.
   */
  prune(): void {
    const labels = new Map<string, number>();
    this.insns.forEach((i, n) => {
      if (i.labelDef !== undefined) labels.set(i.labelDef, n);
    });
    const live = new Uint8Array(this.insns.length);
    const work = [0];
    while (work.length) {
      let n = work.pop()!;
      while (n < this.insns.length && !live[n]) {
        live[n] = 1;
        const i = this.insns[n];
        const cls = A.bpfClass(i.code);
        const isJmp = i.labelDef === undefined && (cls === A.BPF_JMP || cls === A.BPF_JMP32);
        const op = A.bpfOp(i.code);
        if (isJmp && op === A.BPF_EXIT) break;
        if (isJmp && op !== A.BPF_CALL && i.target !== undefined) {
          const t = labels.get(i.target);
          if (t !== undefined) work.push(t);
          if (op === A.BPF_JA) break;
        }
        n++;
      }
    }
    if (live.every((x) => x)) return;
    const newIndex = new Int32Array(this.insns.length).fill(-1);
    const kept: Insn[] = [];
    this.insns.forEach((i, n) => {
      if (live[n] || i.labelDef !== undefined) {
        newIndex[n] = kept.length;
        kept.push(i);
      }
    });
    this.insns.splice(0, this.insns.length, ...kept);
    const relocs = this.relocs.filter((r) => newIndex[r.index] >= 0).map((r) => ({ ...r, index: newIndex[r.index] }));
    this.relocs.splice(0, this.relocs.length, ...relocs);
  }

  /** Moves a pending relocation list forward when instructions are inserted before them. */
  prologue(insns: Insn[]): void {
    this.insns.unshift(...insns);
    for (const r of this.relocs) r.index += insns.length;
  }
}

export function sizeName(n: number): Size {
  return n === 1 ? 'b' : n === 2 ? 'h' : n === 4 ? 'w' : 'dw';
}
