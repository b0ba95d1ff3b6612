// BPF maps from user space. Element operations reuse attrs built once per map
// whose key/value pointers already point at per-map scratch Buffers, so a
// lookup is one copy in, one syscall, one copy out: no allocation of attrs
// and no address computation on the hot path.
import { Attr, InfoAttr, MapBatchAttr, MapCreateAttr, MapElemAttr, MapInfo, objName } from './attr.js';
import { numPossibleCpus } from './cpus.js';
import { trackFd, untrackFd } from './fds.js';
import { BpfCmd, SysError, bpf, bpfTry, close, errno } from './sys.js';

/** enum bpf_map_type. */
export const MapType = {
  UNSPEC: 0, HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6,
  STACK_TRACE: 7, CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13, DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20, PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25,
  STRUCT_OPS: 26, RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30, USER_RINGBUF: 31,
  CGRP_STORAGE: 32, ARENA: 33,
} as const;

const MAP_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MapType).map(([k, v]) => [v, k.toLowerCase()]),
);

export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `type ${type}`;
}

/** map_flags for BPF_MAP_CREATE. */
export const MapFlag = {
  NO_PREALLOC: 1, NO_COMMON_LRU: 2, NUMA_NODE: 4, RDONLY: 8, WRONLY: 16, STACK_BUILD_ID: 32, ZERO_SEED: 64,
  RDONLY_PROG: 128, WRONLY_PROG: 256, CLONE: 512, MMAPABLE: 1024,
} as const;

/** flags for BPF_MAP_UPDATE_ELEM. */
export const UpdateFlag = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;

const PERCPU_TYPES = new Set<number>([
  MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE,
]);

export function isPerCpuMapType(type: number): boolean {
  return PERCPU_TYPES.has(type);
}

export interface MapSpec {
  type: number;
  /** Shown by bpftool; sanitized and cut to 15 characters. */
  name?: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  innerMapFd?: number;
  numaNode?: number;
  mapExtra?: bigint;
}

export interface MapInfoResult {
  id: number;
  type: number;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

// Elem commands only read up to `flags`; a shorter attr is zero-extended by
// the kernel and copies less on every call.
const ELEM_ATTR_SIZE = 32;
const BATCH_ATTR_SIZE = 56;

/** Set once a kernel rejected BPF_MAP_LOOKUP_BATCH as unknown, so later dumps skip straight to iteration. */
let batchUnsupported = false;

const round8 = (n: number): number => (n + 7) & ~7;

/** Entries of one batch lookup, packed: see BpfMap.dumpBatches(). */
export interface MapBatch {
  keys: Buffer;
  values: Buffer;
  count: number;
}

/** Buffers shared by a map's element operations, and the attrs pointing at them. */
interface ElemIo {
  kbuf: Buffer;
  vbuf: Buffer;
  nkbuf: Buffer;
  lookup: Attr;
  update: Attr;
  delete: Attr;
  next: Attr;
  first: Attr;
}

export class BpfMap {
  readonly fd: number;
  readonly type: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Whether lookups return one value per possible CPU. */
  readonly perCpu: boolean;
  /** CPU slots in a per-CPU value (1 otherwise). */
  readonly ncpus: number;
  /** Bytes between CPU slots: valueSize rounded up to 8 (the kernel's per-CPU layout). */
  readonly valueStride: number;
  /** Bytes a lookup returns: valueStride × ncpus for per-CPU maps, valueSize otherwise. */
  readonly fullValueSize: number;

  private elemIo?: ElemIo;
  private closed = false;

  private constructor(fd: number, spec: MapSpec, name: string) {
    this.fd = fd;
    this.type = spec.type;
    this.name = name;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.perCpu = isPerCpuMapType(spec.type);
    this.ncpus = this.perCpu ? numPossibleCpus() : 1;
    this.valueStride = this.perCpu ? round8(spec.valueSize) : spec.valueSize;
    this.fullValueSize = this.perCpu ? this.valueStride * this.ncpus : spec.valueSize;
    trackFd(fd, `map ${name}`, () => {
      this.closed = true;
    });
  }

  /**
   * The buffers and attrs of element operations, made at the first one: each
   * attr takes buffer addresses through koffi, and most maps (the event ring,
   * a tool's scratch) never see one from user space.
   */
  private get io(): ElemIo {
    if (this.elemIo) return this.elemIo;
    // Zero-length Buffers have no stable address; one spare byte keeps the
    // pointer valid for maps without keys or values.
    const kbuf = Buffer.alloc(Math.max(this.keySize, 1));
    const vbuf = Buffer.alloc(Math.max(this.fullValueSize, 1));
    const nkbuf = Buffer.alloc(Math.max(this.keySize, 1));
    const elem = (): Attr => new Attr(ELEM_ATTR_SIZE).u32(MapElemAttr.mapFd, this.fd).ptr(MapElemAttr.key, kbuf);
    return (this.elemIo = {
      kbuf,
      vbuf,
      nkbuf,
      lookup: elem().ptr(MapElemAttr.value, vbuf),
      update: elem().ptr(MapElemAttr.value, vbuf),
      delete: elem(),
      next: elem().ptr(MapElemAttr.nextKey, nkbuf),
      first: new Attr(ELEM_ATTR_SIZE).u32(MapElemAttr.mapFd, this.fd).ptr(MapElemAttr.nextKey, nkbuf),
    });
  }

  /**
   * Creates a map. Example:
   *   const counts = BpfMap.create({ type: MapType.PERCPU_ARRAY, name: 'counts', keySize: 4, valueSize: 8, maxEntries: 1 });
   * Throws SysError naming the map when the kernel refuses (EINVAL for bad
   * sizes, EPERM without CAP_BPF, E2BIG/ENOMEM for huge maps).
   */
  static create(spec: MapSpec): BpfMap {
    for (const k of ['keySize', 'valueSize', 'maxEntries'] as const) {
      const v = spec[k];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`map ${spec.name ?? ''}: ${k} ${v} is not a u32`);
    }
    const name = objName(spec.name ?? '');
    const a = new Attr()
      .u32(MapCreateAttr.mapType, spec.type)
      .u32(MapCreateAttr.keySize, spec.keySize)
      .u32(MapCreateAttr.valueSize, spec.valueSize)
      .u32(MapCreateAttr.maxEntries, spec.maxEntries)
      .u32(MapCreateAttr.mapFlags, spec.flags ?? 0)
      .u32(MapCreateAttr.innerMapFd, spec.innerMapFd ?? 0)
      .u32(MapCreateAttr.numaNode, spec.numaNode ?? 0)
      .chars(MapCreateAttr.mapName, 16, name);
    if (spec.mapExtra !== undefined) a.u64(MapCreateAttr.mapExtra, spec.mapExtra);
    let fd: number;
    try {
      fd = bpf(BpfCmd.MAP_CREATE, a.buf);
    } catch (e) {
      if (e instanceof SysError) {
        throw new SysError(`creating ${mapTypeName(spec.type)} map '${name}' (key ${spec.keySize}, value ${spec.valueSize}, entries ${spec.maxEntries})`, e.errno);
      }
      throw e;
    }
    return new BpfMap(fd, spec, name);
  }

  /** A ring buffer map of `size` bytes (a power of two, a multiple of the page size; see ringSizeFor). */
  static ringbuf(name: string, size: number): BpfMap {
    if (size <= 0 || (size & (size - 1)) !== 0 || size % 4096 !== 0) {
      throw new RangeError(`ring buffer '${name}': size ${size} must be a power of two and a multiple of 4096`);
    }
    return BpfMap.create({ type: MapType.RINGBUF, name, keySize: 0, valueSize: 0, maxEntries: size });
  }

  /** A perf event array with one slot per possible CPU, for bpf_perf_event_output. */
  static perfEventArray(name: string, entries = numPossibleCpus()): BpfMap {
    return BpfMap.create({ type: MapType.PERF_EVENT_ARRAY, name, keySize: 4, valueSize: 4, maxEntries: entries });
  }

  private checkKey(key: Buffer): void {
    if (key.length !== this.keySize) throw new RangeError(`map ${this.name}: key is ${key.length} bytes, expected ${this.keySize}`);
  }

  /**
   * The value stored under `key`, or undefined when absent. The result is a
   * copy (or `out`, when given) so it stays valid across later calls.
   * Per-CPU maps return all CPU slots back to back (see lookupPerCpu).
   */
  lookup(key: Buffer, out?: Buffer): Buffer | undefined {
    this.checkKey(key);
    const io = this.io;
    key.copy(io.kbuf);
    const r = bpfTry(BpfCmd.MAP_LOOKUP_ELEM, io.lookup.buf, ELEM_ATTR_SIZE);
    if (r < 0) {
      if (r === -errno.ENOENT) return undefined;
      throw new SysError(`lookup in map ${this.name}`, -r);
    }
    if (out) {
      io.vbuf.copy(out, 0, 0, this.fullValueSize);
      return out;
    }
    // allocUnsafe takes small Buffers from Node's pool: much cheaper than a
    // fresh allocation, and every byte is overwritten by the copy.
    const v = Buffer.allocUnsafe(this.fullValueSize);
    io.vbuf.copy(v, 0, 0, this.fullValueSize);
    return v;
  }

  /** One Buffer of valueSize bytes per possible CPU, or undefined when absent. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    const all = this.lookup(key);
    if (!all) return undefined;
    return this.splitPerCpu(all);
  }

  /** Splits a per-CPU value (as lookup returns it) into one Buffer per CPU. */
  splitPerCpu(all: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let c = 0; c < this.ncpus; c++) out.push(all.subarray(c * this.valueStride, c * this.valueStride + this.valueSize));
    return out;
  }

  /**
   * Stores `value` under `key`. For per-CPU maps `value` is either every CPU's
   * slot (fullValueSize bytes) or one valueSize value written to all CPUs.
   */
  update(key: Buffer, value: Buffer, flags: number = UpdateFlag.ANY): void {
    this.checkKey(key);
    const io = this.io;
    key.copy(io.kbuf);
    if (this.perCpu && value.length === this.valueSize && value.length !== this.fullValueSize) {
      io.vbuf.fill(0);
      for (let c = 0; c < this.ncpus; c++) value.copy(io.vbuf, c * this.valueStride);
    } else if (value.length === this.fullValueSize) {
      value.copy(io.vbuf);
    } else {
      throw new RangeError(`map ${this.name}: value is ${value.length} bytes, expected ${this.fullValueSize}`);
    }
    io.update.u64(MapElemAttr.flags, flags);
    const r = bpfTry(BpfCmd.MAP_UPDATE_ELEM, io.update.buf, ELEM_ATTR_SIZE);
    if (r < 0) throw new SysError(`update in map ${this.name}`, -r);
  }

  /** Removes `key`; false when it was not there. */
  delete(key: Buffer): boolean {
    this.checkKey(key);
    const io = this.io;
    key.copy(io.kbuf);
    const r = bpfTry(BpfCmd.MAP_DELETE_ELEM, io.delete.buf, ELEM_ATTR_SIZE);
    if (r < 0) {
      if (r === -errno.ENOENT) return false;
      throw new SysError(`delete in map ${this.name}`, -r);
    }
    return true;
  }

  /**
   * The key after `key` in the kernel's iteration order (the first key for
   * null), or undefined at the end. A `key` no longer in a hash map restarts
   * from the beginning: that is the kernel's rule, not ours.
   */
  nextKey(key: Buffer | null, out?: Buffer): Buffer | undefined {
    let r: number;
    const io = this.io;
    if (key === null) {
      r = bpfTry(BpfCmd.MAP_GET_NEXT_KEY, io.first.buf, ELEM_ATTR_SIZE);
    } else {
      this.checkKey(key);
      key.copy(io.kbuf);
      r = bpfTry(BpfCmd.MAP_GET_NEXT_KEY, io.next.buf, ELEM_ATTR_SIZE);
    }
    if (r < 0) {
      if (r === -errno.ENOENT) return undefined;
      throw new SysError(`get_next_key in map ${this.name}`, -r);
    }
    if (out) {
      io.nkbuf.copy(out, 0, 0, this.keySize);
      return out;
    }
    const k = Buffer.allocUnsafe(this.keySize);
    io.nkbuf.copy(k, 0, 0, this.keySize);
    return k;
  }

  /** Every key, each a fresh Buffer. Keys deleted meanwhile may restart the walk (kernel rule). */
  *keys(): Generator<Buffer> {
    let k = this.nextKey(null);
    while (k) {
      yield k;
      k = this.nextKey(k);
    }
  }

  /** Every (key, value) pair by iteration and lookup; entries deleted between the two are skipped. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /**
   * All entries, read with BPF_MAP_LOOKUP_BATCH where the kernel has it (one
   * syscall per `chunk` entries) and by iteration otherwise. Values are laid
   * out as lookup() returns them.
   */
  dump(chunk = 1024): [Buffer, Buffer][] {
    if (!batchUnsupported) {
      const r = this.lookupBatch(chunk);
      if (r) return r;
    }
    return [...this.entries()];
  }

  /**
   * BPF_MAP_LOOKUP_BATCH over the whole map; undefined when the kernel (or
   * this map type) lacks batch operations, so the caller can iterate instead.
   */
  lookupBatch(chunk = 1024): [Buffer, Buffer][] | undefined {
    const batches = this.lookupBatches(chunk);
    if (!batches) return undefined;
    const out: [Buffer, Buffer][] = [];
    for (const b of batches) {
      for (let i = 0; i < b.count; i++) {
        out.push([
          b.keys.subarray(i * this.keySize, (i + 1) * this.keySize),
          b.values.subarray(i * this.fullValueSize, (i + 1) * this.fullValueSize),
        ]);
      }
    }
    return out;
  }

  /**
   * The whole map as packed batches, without a Buffer per entry: for 100k
   * entries those views were most of the garbage collector's work when a
   * map is printed. Entry i of a batch has its key at i × keySize in `keys`
   * and its value (as lookup() returns it) at i × fullValueSize in `values`.
   */
  dumpBatches(chunk = 1024): MapBatch[] {
    if (!batchUnsupported) {
      const r = this.lookupBatches(chunk);
      if (r) return r;
    }
    const rows = [...this.entries()];
    return [{ keys: Buffer.concat(rows.map((e) => e[0])), values: Buffer.concat(rows.map((e) => e[1])), count: rows.length }];
  }

  private lookupBatches(chunk: number): MapBatch[] | undefined {
    let count = Math.max(1, Math.min(chunk, this.maxEntries || 1));
    // Batch tokens are opaque to us (a bucket index for hashes, an index for
    // arrays); the kernel wants room for at least a key.
    const tokSize = Math.max(this.keySize, 8);
    let inTok = Buffer.alloc(tokSize);
    let outTok = Buffer.alloc(tokSize);
    let keys = Buffer.alloc(count * this.keySize);
    let values = Buffer.alloc(count * this.fullValueSize);
    const out: MapBatch[] = [];
    let first = true;
    for (;;) {
      const a = new Attr(BATCH_ATTR_SIZE)
        .ptr(MapBatchAttr.inBatch, first ? null : inTok)
        .ptr(MapBatchAttr.outBatch, outTok)
        .ptr(MapBatchAttr.keys, keys)
        .ptr(MapBatchAttr.values, values)
        .u32(MapBatchAttr.count, count)
        .u32(MapBatchAttr.mapFd, this.fd);
      const r = bpfTry(BpfCmd.MAP_LOOKUP_BATCH, a.buf, BATCH_ATTR_SIZE);
      const n = a.getU32(MapBatchAttr.count);
      if (r < 0 && r !== -errno.ENOENT) {
        if (r === -errno.ENOSPC && n === 0) {
          // One hash bucket holds more entries than fit: retry it with room.
          count *= 2;
          keys = Buffer.alloc(count * this.keySize);
          values = Buffer.alloc(count * this.fullValueSize);
          continue;
        }
        if (first && (r === -errno.EINVAL || r === -errno.ENOTSUPP || r === -errno.EOPNOTSUPP || r === -errno.ENOSYS)) {
          // EINVAL is how kernels before 5.6 answer an unknown command;
          // ENOTSUPP only says this map type has no batch operations.
          if (r === -errno.EINVAL) batchUnsupported = true;
          return undefined;
        }
        throw new SysError(`lookup_batch in map ${this.name}`, -r);
      }
      // One copy per round, so the scratch Buffers can be reused by the next.
      if (n > 0) out.push({ keys: Buffer.from(keys.subarray(0, n * this.keySize)), values: Buffer.from(values.subarray(0, n * this.fullValueSize)), count: n });
      if (r === -errno.ENOENT) return out;
      [inTok, outTok] = [outTok, inTok];
      first = false;
    }
  }

  /** Deletes every entry (arrays cannot delete: their values are zeroed instead). */
  clear(): void {
    if (this.type === MapType.ARRAY || this.type === MapType.PERCPU_ARRAY) {
      const zero = Buffer.alloc(this.fullValueSize);
      const k = Buffer.alloc(4);
      for (let i = 0; i < this.maxEntries; i++) {
        k.writeUInt32LE(i);
        this.update(k, zero);
      }
      return;
    }
    // Deleting the key we iterate from would restart the walk anyway, so
    // always take the first key until none is left.
    for (let k = this.nextKey(null); k; k = this.nextKey(null)) this.delete(k);
  }

  /** BPF_OBJ_GET_INFO_BY_FD: the id bpftool shows, among others. */
  info(): MapInfoResult {
    const info = Buffer.alloc(MapInfo.size);
    const a = new Attr().u32(InfoAttr.bpfFd, this.fd).u32(InfoAttr.infoLen, info.length).ptr(InfoAttr.info, info);
    bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a.buf);
    const nameEnd = info.indexOf(0, MapInfo.name);
    return {
      id: info.readUInt32LE(MapInfo.id),
      type: info.readUInt32LE(MapInfo.type),
      name: info.toString('latin1', MapInfo.name, nameEnd < 0 || nameEnd > MapInfo.name + 16 ? MapInfo.name + 16 : nameEnd),
      keySize: info.readUInt32LE(MapInfo.keySize),
      valueSize: info.readUInt32LE(MapInfo.valueSize),
      maxEntries: info.readUInt32LE(MapInfo.maxEntries),
      flags: info.readUInt32LE(MapInfo.mapFlags),
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    untrackFd(this.fd);
    close(this.fd);
  }
}

/** The smallest size BpfMap.ringbuf takes that holds `bytes`: a power of two, at least a page. */
export function ringSizeFor(bytes: number): number {
  return Math.max(4096, 2 ** Math.ceil(Math.log2(bytes)));
}

/** A u32 key Buffer, the key type of arrays and perf event arrays. */
export function u32Key(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A u64 key Buffer. */
export function u64Key(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)));
  return b;
}
