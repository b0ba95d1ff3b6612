// Consumer side of bpf_perf_event_output: one bpf-output perf event per CPU,
// each with its own mmapped ring (a control page, then 2^n data pages). The
// kernel advances data_head; we read records up to it and then publish
// data_tail. Unlike the BPF ring buffer the data is mapped once, so a record
// that wraps the end is copied into a scratch buffer to be contiguous.
import { onlineCpus, pageSize } from './cpus.js';
import { trackResource } from './fds.js';
import { MapType, u32Key, type BpfMap } from './map.js';
import { PerfMmapPage } from './attr.js';
import { openBpfOutput, type PerfEvent } from './perf.js';
import type { EventReader, RecordHandler } from './poller.js';
import { PROT_READ, PROT_WRITE, mmap, type Mapping } from './sys.js';

const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;

export interface PerfBufferOptions {
  /** Data pages per CPU, a power of two (default 64: 256 KiB with 4 KiB pages). */
  pagesPerCpu?: number;
  /** Wake the reader every N samples (default 1, like bpftrace). */
  wakeupEvents?: number;
  /** CPUs to read (default: all online). */
  cpus?: number[];
  /** Told about each PERF_RECORD_LOST (how many samples that CPU dropped). */
  onLost?: (count: number, cpu: number) => void;
}

interface CpuRing {
  cpu: number;
  event: PerfEvent;
  mapping: Mapping;
  ctl: BigUint64Array;
  bytes: Buffer;
  dataOff: number;
  dataSize: number;
  tail: number;
}

export class PerfBufferReader implements EventReader {
  readonly fds: readonly number[];
  /** Samples the kernel reported dropped (PERF_RECORD_LOST), summed over CPUs. */
  lost = 0;

  private readonly rings: CpuRing[] = [];
  private readonly untrack: () => void;
  private scratch = Buffer.alloc(256);
  private closed = false;

  /**
   * Opens a bpf-output event per CPU, maps its ring and stores the event fd
   * in `map` (a PERF_EVENT_ARRAY) at the CPU's index, where
   * bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, ...) finds it.
   * Records reach `onRecord` as the raw sample bytes, which the kernel pads
   * to keep records 8-byte aligned: the payload may be followed by up to 7
   * zero bytes.
   */
  constructor(map: BpfMap, private readonly onRecord: RecordHandler, private readonly opts: PerfBufferOptions = {}) {
    if (map.type !== MapType.PERF_EVENT_ARRAY) throw new TypeError(`map ${map.name} is not a perf event array`);
    const pages = opts.pagesPerCpu ?? 64;
    if (pages <= 0 || (pages & (pages - 1)) !== 0) throw new RangeError(`perf buffer: ${pages} pages per CPU is not a power of two`);
    const page = pageSize();
    try {
      for (const cpu of opts.cpus ?? onlineCpus()) {
        if (cpu >= map.maxEntries) throw new RangeError(`perf buffer: cpu ${cpu} is past map ${map.name}'s ${map.maxEntries} slots`);
        const event = openBpfOutput(cpu, opts.wakeupEvents ?? 1);
        let mapping: Mapping;
        try {
          mapping = mmap(event.fd, page * (1 + pages), PROT_READ | PROT_WRITE);
        } catch (e) {
          event.close();
          throw e;
        }
        const ctl = new BigUint64Array(mapping.view, 0, page / 8);
        // data_offset/data_size exist since 4.1; older kernels leave them 0.
        const dataOff = Number(ctl[PerfMmapPage.dataOffset / 8]) || page;
        const dataSize = Number(ctl[PerfMmapPage.dataSize / 8]) || page * pages;
        this.rings.push({
          cpu, event, mapping, ctl, bytes: Buffer.from(mapping.view), dataOff, dataSize,
          tail: Number(ctl[PerfMmapPage.dataTail / 8]),
        });
        const fdv = Buffer.alloc(4);
        fdv.writeUInt32LE(event.fd);
        map.update(u32Key(cpu), fdv);
      }
    } catch (e) {
      this.release();
      throw e;
    }
    this.fds = this.rings.map((r) => r.event.fd);
    this.untrack = trackResource(`perf buffer mappings of ${map.name}`, () => this.close());
  }

  drain(): number {
    if (this.closed) return 0;
    let n = 0;
    for (const r of this.rings) n += this.drainRing(r);
    return n;
  }

  private drainRing(r: CpuRing): number {
    const headIdx = PerfMmapPage.dataHead / 8;
    const tailIdx = PerfMmapPage.dataTail / 8;
    let delivered = 0;
    let tail = r.tail;
    for (;;) {
      const head = Number(Atomics.load(r.ctl, headIdx));
      if (tail >= head) break;
      while (tail < head) {
        const off = tail % r.dataSize;
        // Headers are 8 bytes at 8-byte aligned offsets of a ring whose size
        // is a multiple of 8, so a header itself never wraps.
        const base = r.dataOff + off;
        const type = r.bytes.readUInt32LE(base);
        const size = r.bytes.readUInt16LE(base + 6);
        if (size < 8) throw new Error(`perf buffer cpu ${r.cpu}: corrupt record of size ${size} at ${tail}`);
        let rec: Buffer;
        let recOff: number;
        if (off + size <= r.dataSize) {
          rec = r.bytes;
          recOff = base;
        } else {
          if (this.scratch.length < size) this.scratch = Buffer.alloc(Math.max(size, this.scratch.length * 2));
          const first = r.dataSize - off;
          r.bytes.copy(this.scratch, 0, base, base + first);
          r.bytes.copy(this.scratch, first, r.dataOff, r.dataOff + size - first);
          rec = this.scratch;
          recOff = 0;
        }
        if (type === PERF_RECORD_SAMPLE) {
          const rawSize = rec.readUInt32LE(recOff + 8);
          const data = rec.subarray(recOff + 12, recOff + 12 + rawSize);
          try {
            this.onRecord(data, r.cpu);
          } catch (e) {
            r.tail = tail + size;
            Atomics.store(r.ctl, tailIdx, BigInt(r.tail));
            throw e;
          }
          delivered++;
        } else if (type === PERF_RECORD_LOST) {
          const count = Number(rec.readBigUInt64LE(recOff + 16));
          this.lost += count;
          this.opts.onLost?.(count, r.cpu);
        }
        tail += size;
      }
      r.tail = tail;
      Atomics.store(r.ctl, tailIdx, BigInt(tail));
    }
    return delivered;
  }

  private release(): void {
    for (const r of this.rings) {
      r.mapping.unmap();
      r.event.close();
    }
    this.rings.length = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    this.release();
  }
}
