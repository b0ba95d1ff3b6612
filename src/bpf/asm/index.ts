// The BPF assembler: instruction values, builders, label resolution,
// encoding and the bpftool-style disassembler.
export * from './insn.js';
export * from './helpers.js';
export * from './builders.js';
export * from './assemble.js';
export * from './disasm.js';
