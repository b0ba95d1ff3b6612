// Encoders for the kernel's syscall argument structs. koffi cannot describe
// bitfields or anonymous unions, so every struct is a zeroed Buffer written at
// the offsets of include/uapi/linux/{bpf,perf_event}.h. Offsets live here and
// nowhere else, so a layout question has one place to look.
import { BPF_ATTR_SIZE, addressOf } from './sys.js';
import { underscored } from '../chars.js';
import { getU32, getU64, putU16, putU32, putU64 } from '../le.js';

/**
 * A zeroed struct Buffer with little-endian field writers. Pointers written
 * with ptr() are also kept in `refs`, so the pointed-to memory stays alive as
 * long as the attr does (the kernel reads it during the syscall).
 */
export class Attr {
  readonly buf: Buffer;
  private readonly refs: (Buffer | ArrayBufferView)[] = [];

  constructor(size: number = BPF_ATTR_SIZE) {
    this.buf = Buffer.alloc(size);
  }

  u8(off: number, v: number): this {
    this.buf[off] = v;
    return this;
  }

  u16(off: number, v: number): this {
    putU16(this.buf, off, v);
    return this;
  }

  /** Unsigned 32-bit field; negative numbers are written as their two's complement (fd -1). */
  u32(off: number, v: number): this {
    putU32(this.buf, off, v);
    return this;
  }

  u64(off: number, v: number | bigint): this {
    putU64(this.buf, off, BigInt(v));
    return this;
  }

  /** Writes the address of `data` (or 0 for null) and keeps `data` referenced. */
  ptr(off: number, data: Buffer | ArrayBufferView | null): this {
    if (!data) return this.u64(off, 0n);
    this.refs.push(data);
    return this.u64(off, addressOf(data));
  }

  /** Keeps memory referenced through other pointers (an array of char *) alive with the attr. */
  keep(...data: (Buffer | ArrayBufferView)[]): this {
    this.refs.push(...data);
    return this;
  }

  /** A fixed-size char array, NUL padded; `s` must already fit (len - 1 bytes). */
  chars(off: number, len: number, s: string): this {
    // Byte by byte, as latin1 would: Buffer's fill() and write() cost 0.3 ms on their first call.
    for (let i = 0; i < len; i++) this.buf[off + i] = i < len - 1 && i < s.length ? s.charCodeAt(i) : 0;
    return this;
  }

  getU32(off: number): number {
    return getU32(this.buf, off);
  }

  getU64(off: number): bigint {
    return getU64(this.buf, off);
  }

  /** Zeroes the struct for reuse and drops pointer references. */
  reset(): this {
    this.buf.fill(0);
    this.refs.length = 0;
    return this;
  }
}

/** A NUL-terminated copy of `s` for pointer fields (paths, names). */
export function cString(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s) + 1);
  b.write(s, 0);
  return b;
}

/** BPF_OBJ_NAME_LEN: names are 15 bytes of [A-Za-z0-9_.] plus the NUL. */
export const BPF_OBJ_NAME_LEN = 16;

/**
 * Makes `name` acceptable to the kernel, which rejects (EINVAL) object names
 * with any other character: others become '_', and it is cut to 15 bytes.
 */
export function objName(name: string): string {
  return underscored(name, '.').slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** Field offsets inside `union bpf_attr`, one object per command family. */
export const MapCreateAttr = {
  mapType: 0, keySize: 4, valueSize: 8, maxEntries: 12, mapFlags: 16, innerMapFd: 20, numaNode: 24,
  mapName: 28, mapIfindex: 44, btfFd: 48, btfKeyTypeId: 52, btfValueTypeId: 56, btfVmlinuxValueTypeId: 60,
  mapExtra: 64,
} as const;

export const MapElemAttr = { mapFd: 0, key: 8, value: 16, nextKey: 16, flags: 24 } as const;

export const MapBatchAttr = {
  inBatch: 0, outBatch: 8, keys: 16, values: 24, count: 32, mapFd: 36, elemFlags: 40, flags: 48,
} as const;

export const ProgLoadAttr = {
  progType: 0, insnCnt: 4, insns: 8, license: 16, logLevel: 24, logSize: 28, logBuf: 32, kernVersion: 40,
  progFlags: 44, progName: 48, progIfindex: 64, expectedAttachType: 68, progBtfFd: 72, funcInfoRecSize: 76,
  funcInfo: 80, funcInfoCnt: 88, lineInfoRecSize: 92, lineInfo: 96, lineInfoCnt: 104, attachBtfId: 108,
  attachProgFd: 112, attachBtfObjFd: 112, coreReloCnt: 116, fdArray: 120, coreRelos: 128, coreReloRecSize: 136,
  logTrueSize: 140,
} as const;

export const BtfLoadAttr = { btf: 0, logBuf: 8, btfSize: 16, logSize: 20, logLevel: 24, logTrueSize: 28 } as const;

/** struct bpf_func_info, the records of ProgLoadAttr.funcInfo. */
export const FUNC_INFO_REC_SIZE = 8;

export const TestRunAttr = {
  progFd: 0, retval: 4, dataSizeIn: 8, dataSizeOut: 12, dataIn: 16, dataOut: 24, repeat: 32, duration: 36,
  ctxSizeIn: 40, ctxSizeOut: 44, ctxIn: 48, ctxOut: 56, flags: 64, cpu: 68, batchSize: 72,
} as const;

export const InfoAttr = { bpfFd: 0, infoLen: 4, info: 8 } as const;

export const RawTracepointAttr = { name: 0, progFd: 8, cookie: 16 } as const;

export const LinkCreateAttr = {
  progFd: 0, targetFd: 4, attachType: 8, flags: 12,
  targetBtfId: 16,
  perfEventCookie: 16,
  kprobeMultiFlags: 16, kprobeMultiCnt: 20, kprobeMultiSyms: 24, kprobeMultiAddrs: 32, kprobeMultiCookies: 40,
  uprobeMultiPath: 16, uprobeMultiOffsets: 24, uprobeMultiRefCtrOffsets: 32, uprobeMultiCookies: 40, uprobeMultiCnt: 48, uprobeMultiFlags: 52, uprobeMultiPid: 56,
  tracingTargetBtfId: 16, tracingCookie: 24,
} as const;

export const LinkDetachAttr = { linkFd: 0 } as const;
export const EnableStatsAttr = { type: 0 } as const;

/** struct bpf_prog_info / bpf_map_info / bpf_link_info fields we read. */
export const ProgInfo = {
  size: 232, type: 0, id: 4, tag: 8, xlatedProgLen: 20, nrMapIds: 52, mapIds: 56, name: 64,
  runTimeNs: 192, runCnt: 200, recursionMisses: 208, verifiedInsns: 216, attachBtfId: 224,
} as const;
export const MapInfo = { size: 88, type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, mapFlags: 20, name: 24 } as const;
export const LinkInfo = { size: 48, type: 0, id: 4, progId: 8 } as const;

/**
 * struct perf_event_attr. We pass PERF_ATTR_SIZE_VER7 (128 bytes): every field
 * we set is older than that, and the kernel accepts any size it knows.
 */
export const PERF_ATTR_SIZE = 128;
export const PerfAttr = {
  type: 0, size: 4, config: 8, samplePeriod: 16, sampleFreq: 16, sampleType: 24, readFormat: 32, flags: 40,
  wakeupEvents: 48, wakeupWatermark: 48, bpType: 52, config1: 56, config2: 64, branchSampleType: 72,
  sampleRegsUser: 80, sampleStackUser: 88, clockid: 92, sampleRegsIntr: 96, auxWatermark: 104, sampleMaxStack: 108,
} as const;

/** Bits of perf_event_attr's flags word (the bitfield at offset 40). */
export const PerfFlag = {
  disabled: 1n << 0n, inherit: 1n << 1n, pinned: 1n << 2n, exclusive: 1n << 3n, excludeUser: 1n << 4n,
  excludeKernel: 1n << 5n, excludeHv: 1n << 6n, excludeIdle: 1n << 7n, mmap: 1n << 8n, comm: 1n << 9n,
  freq: 1n << 10n, inheritStat: 1n << 11n, enableOnExec: 1n << 12n, task: 1n << 13n, watermark: 1n << 14n,
  mmapData: 1n << 17n, sampleIdAll: 1n << 18n, excludeHost: 1n << 19n, excludeGuest: 1n << 20n,
} as const;

/** struct perf_event_mmap_page offsets of the ring's head/tail words. */
export const PerfMmapPage = { dataHead: 1024, dataTail: 1032, dataOffset: 1040, dataSize: 1048 } as const;
