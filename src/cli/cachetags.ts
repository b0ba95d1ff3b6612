// What a run exercised, as coarse tags (command, providers, output format),
// for the code-cache launcher (launch.ts). The cache holds the functions the
// run that wrote it compiled; a run with a tag the cache has not seen
// compiles its own paths from source, so it rewrites the cache with them
// added. After a few kinds of runs the cache stops changing. The kind of run
// also picks which cache file a run loads (launch.ts cacheKind).
import { isDigit } from '../chars.js';

export const RUN_TAGS_KEY = '__bpfkitRunTags';
export const CHECKPOINT_KEY = '__bpfkitCacheCheckpoint';

/** Whether the first argument names a ready-made tool (`bpfkit NAME ...`) rather than a script file. */
export function namesTool(first: string | undefined): boolean {
  // /^[a-z][a-z0-9_-]*$/, spelled out: this runs before anything else does.
  if (!first || first.endsWith('.bt')) return false;
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    const lower = c >= 97 && c <= 122;
    if (!(lower || (i > 0 && (isDigit(c) || c === 95 || c === 45)))) return false;
  }
  return true;
}

export function noteRun(...tags: string[]): void {
  const g = globalThis as { [RUN_TAGS_KEY]?: Set<string> };
  const set = (g[RUN_TAGS_KEY] ??= new Set());
  for (const t of tags) set.add(t);
}

/**
 * Start-up is over and the first events are coming: once they are handled
 * and written (the next turn of the event loop), the launcher writes the
 * cache if this run is to write it, rather than at exit. V8 drops the
 * bytecode of functions left unused across a few full GCs, so a long run's
 * exit-time cache lacked the very start-up path it exists for (a cache
 * written by the test suite made starts 6-8 ms slower).
 */
export function cacheCheckpoint(): void {
  setImmediate(() => (globalThis as { [CHECKPOINT_KEY]?: () => void })[CHECKPOINT_KEY]?.());
}
