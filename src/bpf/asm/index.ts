// The BPF assembler: instruction values, builders, label resolution and
// encoding. The bpftool-style disassembler (disasm.ts) is imported where it
// is used (-d codegen), so compiling a program never loads it; all.ts has both.
export * from './insn.js';
export * from './helpers.js';
export * from './builders.js';
export * from './assemble.js';
