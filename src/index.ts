// bpfkit's public library API.
export { Trace, run, compileProgram, type TraceEvent, type TraceOptions, type TraceResult } from './api.js';
export { CompileError } from './lang/diagnostics.js';
export type { MapSnapshot, Value } from './output/value.js';
export * from './bpf/index.js';
