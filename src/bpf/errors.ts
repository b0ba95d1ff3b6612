// Errors shared by the layers above sys.ts that are not syscall failures.

/**
 * The machine lacks something a request needs (no kprobe PMU, no hardware
 * PMU, no fentry). `feature` names it the way `bpfkit --info` does, so a
 * caller can fall back to something else or tell the user what to use.
 */
export class NotSupportedError extends Error {
  readonly feature: string;
  constructor(feature: string, message: string) {
    super(message);
    this.name = 'NotSupportedError';
    this.feature = feature;
  }
}
