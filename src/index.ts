// bpfkit's public library API. For now the kernel object layer; the compiler
// and runtime entry points join it as they land.
export * from './bpf/index.js';
