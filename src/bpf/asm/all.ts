// The assembler and the disassembler together, for the library's `asm` namespace.
export * from './index.js';
export * from './disasm.js';
