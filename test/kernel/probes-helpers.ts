// Shared by the probes-*.test.ts kernel tests: a hand-assembled program that
// reads a probe target's arguments the way its ArgRead descriptions say
// (the reference for what codegen must emit) and sums them per slot of an
// array map, for one process only; and facts about ELF files from binutils,
// to check the providers' own ELF reading against.
import { execFileSync } from 'node:child_process';
import {
  alu64Imm, alu64Reg, assemble, atomic, call, exit, jmpImm, jmpReg, label, ldImm64, ldMapFd, ldx, mov64Imm, mov64Reg, st,
  R0, R1, R2, R3, R6, R7, R9, R10, type Insn, type Reg,
} from '../../src/bpf/asm/index.js';
import { BpfMap, MapType, Program, u32Key } from '../../src/bpf/index.js';
import type { ArgRead } from '../../src/probes/provider.js';
import { uniquePrefix } from './bpf-helpers.js';

const SIZE = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;

function extend(dst: Reg, size: number, signed: boolean): Insn[] {
  if (!signed || size === 8) return [];
  const bits = 64 - size * 8;
  return [alu64Imm('lsh', dst, bits), alu64Imm('arsh', dst, bits)];
}

/**
 * dst = the argument `r` describes, with ctx in `ctx` (a callee-saved
 * register). Clobbers R0-R5 and the 8 bytes at R10-16.
 */
export function emitArgRead(r: ArgRead, ctx: Reg, dst: Reg): Insn[] {
  switch (r.kind) {
    case 'ctx':
      return [ldx(SIZE[r.size], dst, ctx, r.off), ...extend(dst, r.size, r.signed)];
    case 'const':
      return [ldImm64(dst, BigInt.asIntN(64, r.value))];
    case 'mem': {
      const out: Insn[] = [ldImm64(R3, BigInt.asIntN(64, r.disp))];
      for (const t of r.terms) {
        out.push(ldx('dw', R1, ctx, t.off));
        if (t.scale > 1) out.push(alu64Imm('lsh', R1, Math.log2(t.scale)));
        out.push(alu64Reg('add', R3, R1));
      }
      out.push(
        st('dw', R10, -16, 0),
        mov64Reg(R1, R10),
        alu64Imm('add', R1, -16),
        mov64Imm(R2, r.size),
        call(r.user ? 'probe_read_user' : 'probe_read_kernel'),
        ldx(SIZE[r.size], dst, R10, -16),
        ...extend(dst, r.size, r.signed),
      );
      return out;
    }
    default:
      throw new Error(`no hand-built read for ${r.kind}`);
  }
}

/** Slot map: [0] the tgid to count, [1] events, [2 + k] the sum of read k. */
export class SumMap {
  readonly map: BpfMap;
  constructor(reads: number) {
    this.map = BpfMap.create({ type: MapType.ARRAY, name: uniquePrefix('sum'), keySize: 4, valueSize: 8, maxEntries: 2 + reads });
  }
  setTgid(pid: number): void {
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(pid));
    this.map.update(u32Key(0), v);
  }
  get count(): number {
    return Number(this.slot(1));
  }
  /** The sum of read k, as a signed 64-bit value. */
  sum(k: number): bigint {
    return BigInt.asIntN(64, this.slot(2 + k));
  }
  private slot(i: number): bigint {
    return this.map.lookup(u32Key(i))!.readBigUInt64LE(0);
  }
  close(): void {
    this.map.close();
  }
}

function lookupSlot(fd: number, slot: number): Insn[] {
  return [st('w', R10, -4, slot), mov64Reg(R2, R10), alu64Imm('add', R2, -4), ldMapFd(R1, fd), call('map_lookup_elem'), jmpImm('jeq', R0, 0, 'out')];
}

/** A program counting events of one process and summing each of `reads` into its slot. */
export function sumProgram(m: SumMap, progType: number, reads: ArgRead[], extra: { expectedAttachType?: number; attachBtfId?: number } = {}): Program {
  const fd = m.map.fd;
  const insns: Insn[] = [
    mov64Reg(R9, R1),
    call('get_current_pid_tgid'),
    alu64Imm('rsh', R0, 32),
    mov64Reg(R6, R0),
    ...lookupSlot(fd, 0),
    ldx('dw', R1, R0, 0),
    jmpReg('jne', R1, R6, 'out'),
    ...lookupSlot(fd, 1),
    mov64Imm(R1, 1),
    atomic('dw', 'add', R0, 0, R1),
  ];
  reads.forEach((r, k) => {
    insns.push(...emitArgRead(r, R9, R7), ...lookupSlot(fd, 2 + k), atomic('dw', 'add', R0, 0, R7));
  });
  insns.push(label('out'), mov64Imm(R0, 0), exit());
  return Program.load({ type: progType, name: uniquePrefix('psum'), insns: assemble(insns).bytes, ...extra });
}

/** Symbol address from `nm` (`nm -D` with `dynamic`): the first named `name`, any `@VERSION` aside. */
export function nmAddress(bin: string, name: string, dynamic = false): number {
  for (const line of execFileSync('nm', dynamic ? ['-D', bin] : [bin], { encoding: 'utf8' }).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3 && f[2].replace(/@.*$/, '') === name) return parseInt(f[0], 16);
  }
  throw new Error(`nm: no ${name} in ${bin}`);
}

/** File offset of virtual address `vaddr`, from `readelf -lW`'s LOAD segments. */
export function readelfFileOffset(bin: string, vaddr: number): number {
  for (const line of execFileSync('readelf', ['-lW', bin], { encoding: 'utf8' }).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'LOAD') continue;
    const [off, va, , , memsz] = f.slice(1, 6).map((x) => parseInt(x, 16));
    if (vaddr >= va && vaddr < va + memsz) return vaddr - va + off;
  }
  throw new Error(`readelf: no LOAD segment of ${bin} holds 0x${vaddr.toString(16)}`);
}

/** The instruction addresses objdump finds in [start, end). */
export function instructionAddresses(bin: string, start: number, end: number): number[] {
  const text = execFileSync('objdump', ['-d', '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, `--stop-address=0x${end.toString(16)}`, bin], { encoding: 'utf8' });
  return text.split('\n').map((l) => /^\s*([0-9a-f]+):\t/.exec(l)).filter((m) => m !== null).map((m) => parseInt(m![1], 16));
}
