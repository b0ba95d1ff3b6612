// Output batching for the CLI. A drain of the event ring can format thousands
// of lines in one go; one write(2) per line was most of the cost of a printf
// event in user space. Text is gathered and written when a batch grows large
// or, at the latest, once the current callback (a drain) has finished.
import { writeSync } from 'node:fs';

export interface BatchedWriter {
  write(s: string): void;
  /** Writes whatever is pending now. */
  flush(): void;
}

// Node's queueMicrotask() builds an AsyncResource per call (0.2 ms the first
// time); a settled promise's then() queues the same microtask without one.
const settled = Promise.resolve();

export function batched(write: (s: string) => void, limit = 1 << 16): BatchedWriter {
  let pending = '';
  let queued = false;
  const flush = () => {
    queued = false;
    if (!pending) return;
    const s = pending;
    pending = '';
    write(s);
  };
  return {
    write(s) {
      pending += s;
      if (pending.length >= limit) flush();
      else if (!queued) {
        queued = true;
        void settled.then(flush);
      }
    },
    flush,
  };
}

/**
 * Writes to fd 1 with write(2). process.stdout would load net and the
 * stream machinery for a pipe (about 8 ms of start-up) to do the same
 * synchronous write. It takes over only when fd 1 turns out non-blocking
 * (EAGAIN, a short write) or fails otherwise, so it reports errors as before.
 * A reader that went away (`bpfkit ... | head`) ends the run quietly; the exit
 * handlers release everything.
 */
export function stdoutWrite(): (s: string) => void {
  let stream: NodeJS.WriteStream | undefined;
  const toStream = () => {
    stream = process.stdout;
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
    return stream;
  };
  return (s) => {
    if (!stream) {
      const buf = Buffer.from(s);
      try {
        const n = writeSync(1, buf);
        if (n === buf.length) return;
        toStream().write(buf.subarray(n));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
        toStream();
      }
    }
    stream!.write(s);
  };
}
