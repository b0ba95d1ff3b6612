// Consumer side of a BPF_MAP_TYPE_RINGBUF. The map fd is mmapped as the
// kernel lays it out: one writable page holding our consumer position, then
// (read-only) the producer position page and the data pages. The kernel
// would map the data twice in a row, so that a record wrapping the end is
// contiguous; we map it once and copy the rare wrapping record instead, since
// every mapped page counts in our RSS (8 MiB for the default 4 MiB ring,
// half of a one-liner's footprint beyond Node itself). Each record has an 8-byte header: u32 length with
// BUSY (still being written) and DISCARD (dropped by the program) bits, and
// a u32 page offset we do not need; records start 8-byte aligned.
import { pageSize } from './cpus.js';
import { trackResource } from './fds.js';
import type { BpfMap } from './map.js';
import { MapType } from './map.js';
import type { EventReader, RecordHandler } from './poller.js';
import { PROT_READ, PROT_WRITE, mmap, type Mapping } from './sys.js';

const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const LEN_MASK = 0x3fffffff;
const HDR_SIZE = 8;
/** Publish our position this often within a long batch so producers get space back early. */
const PUBLISH_EVERY = 1024;

export class RingBufferReader implements EventReader {
  readonly fds: readonly number[];
  readonly size: number;
  /** Ring buffers have no kernel loss counter; programs count failed reserves themselves. */
  lost = 0;

  private readonly consMap: Mapping;
  private readonly prodMap: Mapping;
  private readonly consPos: BigUint64Array;
  private readonly prodPos: BigUint64Array;
  private readonly words: Uint32Array;
  private readonly bytes: ArrayBuffer;
  private readonly dataStart: number;
  private readonly untrack: () => void;
  private cons: number;
  private closed = false;

  /**
   * Maps `map` (a RINGBUF map) for reading. Example:
   *   const rb = new RingBufferReader(BpfMap.ringbuf('events', 1 << 24), (data) => handle(Buffer.from(data)));
   *   new Poller([rb]).start();
   */
  constructor(map: BpfMap, private readonly onRecord: RecordHandler) {
    if (map.type !== MapType.RINGBUF) throw new TypeError(`map ${map.name} is not a ring buffer`);
    const page = pageSize();
    this.size = map.maxEntries;
    this.fds = [map.fd];
    this.consMap = mmap(map.fd, page, PROT_READ | PROT_WRITE, 0);
    try {
      this.prodMap = mmap(map.fd, page + this.size, PROT_READ, page);
    } catch (e) {
      this.consMap.unmap();
      throw e;
    }
    this.consPos = new BigUint64Array(this.consMap.view, 0, 1);
    this.prodPos = new BigUint64Array(this.prodMap.view, 0, 1);
    this.bytes = this.prodMap.view;
    this.words = new Uint32Array(this.prodMap.view);
    this.dataStart = page;
    this.cons = Number(Atomics.load(this.consPos, 0));
    // Closing the map fd does not free a mapped ring: the mappings must go too.
    this.untrack = trackResource(`ring buffer mapping of ${map.name}`, () => this.close());
  }

  /** Bytes written but not yet consumed. */
  pending(): number {
    return Number(Atomics.load(this.prodPos, 0)) - this.cons;
  }

  drain(): number {
    if (this.closed) return 0;
    let delivered = 0;
    let cons = this.cons;
    const size = this.size;
    // At most one ring's worth per call: under a sustained flood the
    // producer refills as fast as we read, and an unbounded loop would never
    // give the event loop back (not even to a SIGINT). What is left keeps the
    // fd readable, so the poller comes straight back.
    const limit = cons + size;
    for (;;) {
      const prod = Math.min(Number(Atomics.load(this.prodPos, 0)), limit);
      if (cons >= prod) break;
      let busy = false;
      let sincePublish = 0;
      while (cons < prod) {
        const off = this.dataStart + (cons % size);
        const hdr = Atomics.load(this.words, off >>> 2);
        // A reserved record not yet submitted blocks everything after it:
        // records are consumed in reservation order.
        if (hdr & BUSY_BIT) {
          busy = true;
          break;
        }
        const len = hdr & LEN_MASK;
        const step = (len + HDR_SIZE + 7) & ~7;
        if (!(hdr & DISCARD_BIT)) {
          try {
            this.onRecord(this.record(off + HDR_SIZE, len), -1);
          } catch (e) {
            // The failing record counts as consumed, so a handler bug cannot
            // make every later drain redeliver it.
            this.publish(cons + step);
            throw e;
          }
          delivered++;
        }
        cons += step;
        if (++sincePublish === PUBLISH_EVERY) {
          sincePublish = 0;
          this.publish(cons);
        }
      }
      this.publish(cons);
      if (busy) break;
    }
    return delivered;
  }

  /** The record's data at `start` (a mapping offset): a view, or a copy when it wraps the end of the ring. */
  private record(start: number, len: number): Buffer {
    const end = this.dataStart + this.size;
    if (start + len <= end) return Buffer.from(this.bytes, start, len);
    const out = Buffer.allocUnsafe(len);
    const first = Math.max(0, end - start);
    if (first) out.set(new Uint8Array(this.bytes, start, first), 0);
    out.set(new Uint8Array(this.bytes, this.dataStart + Math.max(0, start - end), len - first), first);
    return out;
  }

  private publish(cons: number): void {
    this.cons = cons;
    Atomics.store(this.consPos, 0, BigInt(cons));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    this.prodMap.unmap();
    this.consMap.unmap();
  }
}
