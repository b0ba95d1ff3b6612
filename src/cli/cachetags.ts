// What a run exercised, as coarse tags (command, providers, output format),
// for the code-cache launcher (launch.ts). The cache holds the functions the
// run that wrote it compiled; a run with a tag the cache has not seen
// compiles its own paths from source, so at exit it rewrites the cache with
// them added. After a few kinds of runs the cache stops changing. The kind of
// run also picks which cache file a run loads (launch.ts cacheKind).
export const RUN_TAGS_KEY = '__bpfkitRunTags';

/** Whether the first argument names a ready-made tool (`bpfkit NAME ...`) rather than a script file. */
export function namesTool(first: string | undefined): boolean {
  return first !== undefined && /^[a-z][a-z0-9_-]*$/.test(first) && !first.endsWith('.bt');
}

export function noteRun(...tags: string[]): void {
  const g = globalThis as { [RUN_TAGS_KEY]?: Set<string> };
  const set = (g[RUN_TAGS_KEY] ??= new Set());
  for (const t of tags) set.add(t);
}
