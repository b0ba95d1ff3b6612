// /tmp/perf-PID.map: how JIT runtimes (`node --perf-basic-prof`, the JVM
// with perf-map-agent) name code that lives in anonymous memory. One line per
// function: `START SIZE NAME` in hex. JITs append as they compile, so the
// file is re-read when it grows.
import { readFileSync, statSync } from 'node:fs';

export interface PerfMapEntry {
  start: number;
  size: number;
  name: string;
}

export class PerfMap {
  /** Sorted by start; among equal starts, the later line last. */
  private readonly entries: PerfMapEntry[];
  private readonly order: Int32Array;

  constructor(text: string) {
    const list: (PerfMapEntry & { line: number })[] = [];
    let line = 0;
    for (const l of text.split('\n')) {
      const m = /^\s*(?:0x)?([0-9a-fA-F]+)\s+(?:0x)?([0-9a-fA-F]+)\s+(.*?)\s*$/.exec(l);
      if (!m) continue;
      list.push({ start: parseInt(m[1], 16), size: parseInt(m[2], 16), name: m[3], line: line++ });
    }
    list.sort((a, b) => a.start - b.start || a.line - b.line);
    this.entries = list.map(({ start, size, name }) => ({ start, size, name }));
    this.order = Int32Array.from(list, (e) => e.line);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The entry covering `addr`. When a JIT reused memory, several entries
   * overlap; the most recently written one describes the code there now.
   */
  lookup(addr: number): PerfMapEntry | null {
    const e = this.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (e[mid].start <= addr) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    for (let i = lo - 1, n = 0; i >= 0 && n < 32; i--, n++) {
      if (addr < e[i].start + e[i].size && (best < 0 || this.order[i] > this.order[best])) best = i;
    }
    return best >= 0 ? e[best] : null;
  }
}

const cache = new Map<number, { key: string; map: PerfMap | null }>();

/** Where a process's perf map lives, seen from here (a containerised process writes its own /tmp). */
function perfMapPath(pid: number): string | null {
  const own = `/tmp/perf-${pid}.map`;
  try {
    statSync(own);
    return own;
  } catch {
    // look inside the process's mount namespace
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
    const inner = ns && ns.length > 1 ? ns[ns.length - 1] : null;
    if (inner) {
      const p = `/proc/${pid}/root/tmp/perf-${inner}.map`;
      statSync(p);
      return p;
    }
  } catch {
    // no such file
  }
  return null;
}

/** The perf map of `pid`, or null when it wrote none. */
export function perfMap(pid: number): PerfMap | null {
  const path = perfMapPath(pid);
  if (!path) return cache.get(pid)?.map ?? null;
  try {
    const st = statSync(path);
    const key = `${path}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = cache.get(pid);
    if (hit && hit.key === key) return hit.map;
    const map = new PerfMap(readFileSync(path, 'utf8'));
    cache.set(pid, { key, map });
    return map;
  } catch {
    return null;
  }
}

/** The perf-map name for `addr` in `pid`, or null. */
export function perfMapLookup(pid: number, addr: number | bigint): PerfMapEntry | null {
  return perfMap(pid)?.lookup(Number(addr)) ?? null;
}
