// The kernel object layer: maps, programs, links, perf events, event readers
// and feature probes. Layers above import from here; only this directory
// talks to sys.ts.
export * as asm from './asm/all.js';
export { Attr, cString, objName } from './attr.js';
export { BtfLoadError, btfIdent, buildFuncBtf, closeBtf, loadBtf, loadFuncInfo, MAP_ELEM_CALLBACK_PARAMS } from './btfgen.js';
export type { BtfFunc, FuncBtf, SubprogInfo } from './btfgen.js';
export { numPossibleCpus, onlineCpus, pageSize, parseCpuList, possibleCpus } from './cpus.js';
export { NotSupportedError } from './errors.js';
export { closeAll, installExitHandlers, trackFd, trackResource, tracked, untrackFd } from './fds.js';
export * from './features.js';
export { attachKprobeMulti, attachPerfEvent, attachRawTracepoint, attachTracing, attachUprobeMulti, KPROBE_MULTI_RETURN, Link, UPROBE_MULTI_RETURN } from './link.js';
export type { KprobeMultiOptions, UprobeMultiOptions, LinkInfoResult, LinkKind, PerfAttachOptions, ProgRef, TracingAttachOptions } from './link.js';
export { BpfMap, isPerCpuMapType, MapFlag, MapType, mapTypeName, u32Key, u64Key, UpdateFlag } from './map.js';
export type { MapInfoResult, MapSpec } from './map.js';
export * from './perf.js';
export { PerfBufferReader } from './perfbuf.js';
export type { PerfBufferOptions } from './perfbuf.js';
export { Poller } from './poller.js';
export type { EventReader, PollerOptions, RecordHandler } from './poller.js';
export {
  AttachType, enableStats, failingInsn, kernelVersionCode, logReason, Program, programInfo, ProgFlag, ProgType,
  progTypeName, TestRunFlag, tryLoad, VerifierError,
} from './program.js';
export type { LoadAttempt, ProgramInfo, ProgramSpec, TestRunOptions, TestRunResult } from './program.js';
export { closeKernelBtfFds, kernelBtfFd } from './kernelbtf.js';
export { RingBufferReader } from './ringbuf.js';
export { SysError, errno } from './sys.js';
