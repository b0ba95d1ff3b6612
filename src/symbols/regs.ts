// x86_64 registers as a BPF program sees them: byte offsets into the
// `struct pt_regs` a uprobe/kprobe program receives (uapi layout of
// arch/x86/include/uapi/asm/ptrace.h).

/** pt_regs field names, in bpftrace's `reg("...")` spelling, with their offsets. */
export const PT_REGS: Readonly<Record<string, number>> = Object.freeze({
  r15: 0,
  r14: 8,
  r13: 16,
  r12: 24,
  bp: 32,
  bx: 40,
  r11: 48,
  r10: 56,
  r9: 64,
  r8: 72,
  ax: 80,
  cx: 88,
  dx: 96,
  si: 104,
  di: 112,
  orig_ax: 120,
  ip: 128,
  cs: 136,
  flags: 144,
  sp: 152,
  ss: 160,
});

export const PT_REGS_SIZE = 168;

/** The names bpftrace's `reg()` builtin accepts on x86_64, in pt_regs order. */
export const REG_NAMES: readonly string[] = Object.freeze(Object.keys(PT_REGS));

/** `reg("name")`: the pt_regs offset for one of REG_NAMES, or undefined. */
export function reg(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(PT_REGS, name) ? PT_REGS[name] : undefined;
}

/** System V x86_64 integer argument registers: arg0..arg5 are rdi, rsi, rdx, rcx, r8, r9. */
export const ARG_REG_NAMES: readonly string[] = Object.freeze(['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9']);
export const ARG_OFFSETS: readonly number[] = Object.freeze([112, 104, 96, 88, 72, 64]);
/** `retval` (rax). */
export const RETVAL_OFFSET = 80;
/** The instruction pointer (`func`, ustack's first frame). */
export const IP_OFFSET = 128;
/** The stack pointer (stack-passed arguments, `sarg0..`, are read relative to it). */
export const SP_OFFSET = 152;

/** pt_regs offset of `argN`, or undefined past the sixth register argument. */
export function argOffset(n: number): number | undefined {
  return ARG_OFFSETS[n];
}

export interface X86Register {
  /** Canonical 64-bit name (`rax`, `r8`). */
  full: string;
  /** pt_regs offset of the 64-bit slot that holds it. */
  offset: number;
  /** Width in bytes of the named part. */
  size: 1 | 2 | 4 | 8;
  /** ah/bh/ch/dh: bits 8..15 of the slot rather than 0..7. */
  highByte: boolean;
}

const table = new Map<string, X86Register>();
function add(names: [string, string, string, string], offset: number, high?: string): void {
  const sizes: (1 | 2 | 4 | 8)[] = [8, 4, 2, 1];
  names.forEach((n, i) => table.set(n, { full: names[0], offset, size: sizes[i], highByte: false }));
  if (high) table.set(high, { full: names[0], offset, size: 1, highByte: true });
}
add(['rax', 'eax', 'ax', 'al'], 80, 'ah');
add(['rbx', 'ebx', 'bx', 'bl'], 40, 'bh');
add(['rcx', 'ecx', 'cx', 'cl'], 88, 'ch');
add(['rdx', 'edx', 'dx', 'dl'], 96, 'dh');
add(['rsi', 'esi', 'si', 'sil'], 104);
add(['rdi', 'edi', 'di', 'dil'], 112);
add(['rbp', 'ebp', 'bp', 'bpl'], 32);
add(['rsp', 'esp', 'sp', 'spl'], 152);
add(['rip', 'eip', 'ip', 'ipl'], 128);
table.delete('ipl');
for (let i = 8; i <= 15; i++) {
  const off = PT_REGS[`r${i}`];
  add([`r${i}`, `r${i}d`, `r${i}w`, `r${i}b`], off);
  // Intel's manuals also spell the low byte `r8l`.
  table.set(`r${i}l`, { full: `r${i}`, offset: off, size: 1, highByte: false });
}

/** An assembler register name of any width (`%eax`, `r9w`, `dil`), or undefined. */
export function x86Register(name: string): X86Register | undefined {
  return table.get(name.startsWith('%') ? name.slice(1) : name);
}
