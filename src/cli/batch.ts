// Output batching for the CLI. A drain of the event ring can format thousands
// of lines in one go; one write(2) per line was most of the cost of a printf
// event in user space. Text is gathered and written when a batch grows large
// or, at the latest, once the current callback (a drain) has finished.

export interface BatchedWriter {
  write(s: string): void;
  /** Writes whatever is pending now. */
  flush(): void;
}

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
        queueMicrotask(flush);
      }
    },
    flush,
  };
}
