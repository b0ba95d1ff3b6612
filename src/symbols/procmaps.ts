// /proc/PID/maps: which file (and which offset in it) backs a user address.
// Processes often exit before their stacks are printed (a traced `ls`), so
// the mappings seen while a process was alive are remembered per pid.
import { readFileSync, statSync } from 'node:fs';
import type { Elf } from './elf.js';

export interface Mapping {
  start: number;
  end: number;
  /** `r-xp` etc. */
  perms: string;
  offset: number;
  /** `fe:01` */
  dev: string;
  inode: number;
  /** File path, `[heap]`, `[vdso]`, `[anon:...]`, or '' for anonymous memory; ` (deleted)` stripped. */
  path: string;
  /** The file was unlinked after being mapped. */
  deleted: boolean;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+(\S+)\s+(\d+)\s*(.*)$/;

/** Parses the text of a maps file. Lines that do not look like mappings are skipped. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    let path = m[7];
    const deleted = path.endsWith(' (deleted)');
    if (deleted) path = path.slice(0, -' (deleted)'.length);
    out.push({
      start: parseInt(m[1], 16),
      end: parseInt(m[2], 16),
      perms: m[3],
      offset: parseInt(m[4], 16),
      dev: m[5],
      inode: Number(m[6]),
      path,
      deleted,
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Reads /proc/PID/maps now; throws if the process is gone. */
export function readMaps(pid: number): Mapping[] {
  return parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
}

export function isFileMapping(m: Mapping): boolean {
  return m.path.startsWith('/') && m.inode !== 0 && !m.path.startsWith('/memfd:');
}

export interface ProcEntry {
  maps: Mapping[];
  readAt: number;
  /** Paths we could open for each mapped file, found while the process was alive. */
  files: Map<string, string | null>;
  /** The ELF reader per mapped file, so repeated frames skip the stat that openElf's cache check costs. */
  elfs: Map<string, Elf | null>;
  /** Mappings from before an exec, newest first: frames recorded then still resolve against them. */
  older: Mapping[][];
}

/** Address spaces kept per pid besides the current one (a shell's fork, then exec, is one). */
const MAX_OLDER = 4;

const procs = new Map<number, ProcEntry>();
/** Re-reading maps for an address we do not know is rate-limited per pid. */
const REREAD_MS = 50;

/**
 * Reads the maps of `pid` afresh, keeping what is known about its files. With
 * `newSpace`, the mappings known so far are kept as an older generation
 * (the process may have exec'd), unless they are the same.
 */
function load(pid: number, newSpace = false): ProcEntry | null {
  const prev = procs.get(pid);
  let maps: Mapping[];
  try {
    maps = readMaps(pid);
  } catch {
    return null;
  }
  const e: ProcEntry = { maps, readAt: Date.now(), files: prev?.files ?? new Map(), elfs: prev?.elfs ?? new Map(), older: prev?.older ?? [] };
  if (prev && newSpace && !sameSpace(prev.maps, maps)) e.older = [prev.maps, ...prev.older].slice(0, MAX_OLDER);
  procs.set(pid, e);
  return e;
}

/** Whether two readings are one address space: the first executable file mapping, at the same place, is the same. */
function sameSpace(a: Mapping[], b: Mapping[]): boolean {
  const first = (ms: Mapping[]) => ms.find((m) => isFileMapping(m) && m.perms.includes('x'));
  const x = first(a);
  const y = first(b);
  return !!x && !!y && x.start === y.start && x.inode === y.inode && x.dev === y.dev;
}

/**
 * Reads and keeps the mappings (and the openable paths of the mapped files)
 * of a live process, so its addresses still symbolise after it exits. Call
 * it when a process is first seen, e.g. on attach with `-p` or on a probe's
 * first event from a new pid. Returns false if the process is already gone.
 */
export function rememberProcess(pid: number): boolean {
  const e = load(pid, true);
  if (!e) return false;
  for (const m of e.maps) if (isFileMapping(m) && m.perms.includes('x')) openablePath(pid, e, m);
  return true;
}

/** Drops what is remembered about `pid` (or everything). */
export function forgetProcess(pid?: number): void {
  if (pid === undefined) procs.clear();
  else procs.delete(pid);
}

/** What is remembered about `pid`, if anything. */
export function procEntry(pid: number): ProcEntry | undefined {
  return procs.get(pid);
}

/** The mappings of `pid`, from the cache when remembered. */
export function processMaps(pid: number): Mapping[] | null {
  return (procs.get(pid) ?? load(pid))?.maps ?? null;
}

function find(maps: Mapping[], addr: number): Mapping | undefined {
  let lo = 0;
  let hi = maps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (maps[mid].start <= addr) lo = mid + 1;
    else hi = mid;
  }
  const m = maps[lo - 1];
  return m && addr < m.end ? m : undefined;
}

/** The mapping holding `addr` in `pid`, re-reading the maps once if the address is new to us. */
export function findMapping(pid: number, addr: number | bigint): Mapping | undefined {
  const a = Number(addr);
  let e = procs.get(pid) ?? load(pid);
  if (!e) return undefined;
  let m = find(e.maps, a);
  if (!m && Date.now() - e.readAt >= REREAD_MS) {
    // Mapped after we last looked (dlopen, JIT): look again while it is alive.
    e = load(pid) ?? e;
    m = find(e.maps, a);
  }
  for (let i = 0; !m && i < e.older.length; i++) m = find(e.older[i], a);
  return m;
}

/**
 * A path that opens the mapped file: the path itself when it still names the
 * same inode, else through the process's root (containers), else
 * map_files (deleted files), which only works while the process lives.
 */
export function openablePath(pid: number, e: ProcEntry, m: Mapping): string | null {
  const key = `${m.path}\0${m.inode}`;
  const known = e.files.get(key);
  if (known !== undefined) return known;
  const candidates = [
    m.path,
    `/proc/${pid}/root${m.path}`,
    `/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`,
  ];
  let found: string | null = null;
  for (const p of candidates) {
    try {
      if (statSync(p).ino === m.inode) {
        found = p;
        break;
      }
    } catch {
      // not there: next
    }
  }
  e.files.set(key, found);
  return found;
}
