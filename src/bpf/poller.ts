// One interface for the two kinds of event channel, and the loop that drains
// them when the kernel says there is data, without blocking the main thread.
import { trackResource } from './fds.js';
import { FdWatcher } from './sys.js';

/**
 * Called once per record. `data` is a view into kernel-shared memory, valid
 * only until the callback returns: copy it (Buffer.from(data)) to keep it.
 * `cpu` is the CPU the record was written on for perf buffers, -1 for ring
 * buffers (one ring for all CPUs).
 */
export type RecordHandler = (data: Buffer, cpu: number) => void;

export interface EventReader {
  /** Fds that poll readable when records are waiting. */
  readonly fds: readonly number[];
  /** Records the kernel dropped because the buffer was full, as far as the channel reports them. */
  readonly lost: number;
  /** Delivers every record available now; returns how many were delivered. */
  drain(): number;
  /** Unmaps and closes what the reader opened (not the map it reads). */
  close(): void;
}

export interface PollerOptions {
  /**
   * Safety net: drain everything at least this often even without a wake-up
   * (ring buffer notifications can be suppressed by BPF_RB_NO_WAKEUP).
   */
  timeoutMs?: number;
  /** Called with an exception from a record handler; without it the poller stops and rethrows. */
  onError?: (e: unknown) => void;
  /** Called after each round of draining with the number of records delivered. */
  onDrained?: (records: number) => void;
}

/**
 * Drains readers when their fds become readable. epoll_wait runs on a worker
 * thread (sys.FdWatcher), so the JS thread stays free between wake-ups; each
 * wake-up drains the ready readers fully.
 */
export class Poller {
  private readonly watcher: FdWatcher;
  private readonly untrack: () => void;
  private closed = false;

  constructor(private readonly readers: readonly EventReader[], private readonly opts: PollerOptions = {}) {
    this.watcher = new FdWatcher((tags) => this.onReady(tags), opts.timeoutMs ?? 100);
    this.untrack = trackResource('event poller', () => this.close());
    readers.forEach((r, i) => {
      for (const fd of r.fds) this.watcher.add(fd, i);
    });
  }

  start(): void {
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** Drains every reader once, now. */
  drainAll(): number {
    let n = 0;
    for (const r of this.readers) n += r.drain();
    return n;
  }

  private onReady(tags: number[]): void {
    try {
      let n = 0;
      if (tags.length === 0) {
        n = this.drainAll();
      } else {
        for (const t of new Set(tags)) n += this.readers[t]!.drain();
      }
      this.opts.onDrained?.(n);
    } catch (e) {
      if (this.opts.onError) {
        this.opts.onError(e);
      } else {
        this.stop();
        throw e;
      }
    }
  }

  /** Stops watching and releases the epoll instance; the readers stay open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    this.watcher.close();
  }
}
