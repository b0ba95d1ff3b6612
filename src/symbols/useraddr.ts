// User addresses of a process resolved to files, ELF addresses and symbols:
// the ELF half of procmaps.ts, kept apart so that remembering a process's
// mappings does not load the ELF reader.
import { statSync } from 'node:fs';
import { type Elf, openElf, type SymbolHit } from './elf.js';
import { findMapping, isFileMapping, openablePath, processMaps, procEntry, type Mapping } from './procmaps.js';

export interface UserAddress {
  mapping: Mapping;
  /** The openable path of the backing file (may differ from mapping.path), null for anonymous memory. */
  file: string | null;
  /** Offset of the address in the backing file. */
  fileOffset: number;
  /** The link-time address (ELF vaddr) the address corresponds to, when the file is an ELF. */
  vaddr: number | null;
  elf: Elf | null;
  /** The function holding the address, if the ELF has symbols for it. */
  symbol: SymbolHit | null;
}

/**
 * Resolves a user address of `pid`: the mapping, the file and offset in it,
 * the ELF address after removing the load bias, and the function.
 */
export function resolveUserAddress(pid: number, addr: number | bigint): UserAddress | null {
  const a = Number(addr);
  const m = findMapping(pid, a);
  if (!m) return null;
  const fileOffset = a - m.start + m.offset;
  const e = procEntry(pid);
  const file = e && isFileMapping(m) ? openablePath(pid, e, m) : null;
  let elf: Elf | null = null;
  let vaddr: number | null = null;
  let symbol: SymbolHit | null = null;
  if (file && e) {
    elf = e.elfs.get(file) ?? null;
    if (!e.elfs.has(file)) {
      try {
        elf = openElf(file);
      } catch {
        elf = null;
      }
      e.elfs.set(file, elf);
    }
    if (elf) {
      vaddr = elf.fileOffsetToVaddr(fileOffset);
      if (vaddr !== null) symbol = elf.symbolize(vaddr);
    }
  }
  return { mapping: m, file, fileOffset, vaddr, elf, symbol };
}

/**
 * The run-time address of link-time address `vaddr` of the file at `path` in
 * `pid` (for `uaddr()`, USDT semaphores): vaddr plus the load bias, or null
 * when the file is not mapped there.
 */
export function runtimeAddress(pid: number, path: string, vaddr: number): number | null {
  const maps = processMaps(pid);
  if (!maps) return null;
  let ino: number;
  let elf: Elf;
  try {
    ino = statSync(path).ino;
    elf = openElf(path);
  } catch {
    return null;
  }
  const off = elf.vaddrToFileOffset(vaddr);
  if (off === null) return null;
  for (const m of maps) {
    if (m.inode !== ino && m.path !== path) continue;
    if (off >= m.offset && off < m.offset + (m.end - m.start)) return m.start + (off - m.offset);
  }
  return null;
}
