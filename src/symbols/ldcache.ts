// The dynamic loader's library index, /etc/ld.so.cache, so `uprobe:libc:malloc`
// finds the same libc the loader would. Format (glibc >= 2.32 writes only the
// "new" layout; older files put it after a legacy "ld.so-1.7.0" table):
//   header (48 bytes): "glibc-ld.so.cache" "1.1", u32 nlibs, u32 strings_len,
//     u8 flags, 3 pad, u32 extension_offset, 3 x u32 unused
//   nlibs entries (24 bytes): i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap
// key/value are offsets of the soname and path from the start of that header.
// `ldconfig -p` output is the fallback when the file is in a format we do not know.
import { childProcess } from '../lazy.js';
import { readFileSync, statSync } from 'node:fs';
import { cstr } from './bytes.js';

export interface LdCacheEntry {
  soname: string;
  path: string;
  flags: number;
}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
/** FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: what an x86_64 process can load. */
const X86_64_LIBC6 = 0x0303;

function parseNew(buf: Buffer, base: number): LdCacheEntry[] {
  const n = buf.readUInt32LE(base + 20);
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = base + 48 + i * 24;
    if (o + 24 > buf.length) break;
    const flags = buf.readInt32LE(o);
    const key = buf.readUInt32LE(o + 4);
    const value = buf.readUInt32LE(o + 8);
    if (base + key >= buf.length || base + value >= buf.length) continue;
    out.push({ soname: cstr(buf, base + key), path: cstr(buf, base + value), flags });
  }
  return out;
}

/** Parses ld.so.cache contents; null when neither layout is recognised. */
export function parseLdCache(buf: Buffer): LdCacheEntry[] | null {
  if (buf.length >= 48 && buf.toString('latin1', 0, 20) === NEW_MAGIC) return parseNew(buf, 0);
  if (buf.length >= 16 && buf.toString('latin1', 0, 11) === OLD_MAGIC) {
    // The new table follows the old one's entries (12 bytes each), 8-byte aligned.
    const n = buf.readUInt32LE(12);
    const at = (16 + n * 12 + 7) & ~7;
    if (at + 48 <= buf.length && buf.toString('latin1', at, at + 20) === NEW_MAGIC) return parseNew(buf, at);
  }
  return null;
}

/** Parses `ldconfig -p` lines: `\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6`. */
export function parseLdconfigOutput(text: string): LdCacheEntry[] {
  const out: LdCacheEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+(\S+)\s+\(([^)]*)\)(?:\s+OS ABI:[^=]*)?\s+=>\s+(.+)$/.exec(line);
    if (!m) continue;
    const x64 = m[2].split(',').includes('x86-64');
    out.push({ soname: m[1], path: m[3].trim(), flags: x64 ? X86_64_LIBC6 : 0 });
  }
  return out;
}

let cached: { key: string; entries: LdCacheEntry[] } | undefined;

/** The x86_64 entries of the loader cache, in cache order (the order the loader prefers). */
export function ldCache(path = '/etc/ld.so.cache'): LdCacheEntry[] {
  let key = '';
  try {
    const st = statSync(path);
    key = `${path}:${st.ino}:${st.mtimeMs}`;
  } catch {
    key = `${path}:missing`;
  }
  if (cached && cached.key === key) return cached.entries;
  let entries: LdCacheEntry[] | null = null;
  try {
    entries = parseLdCache(readFileSync(path));
  } catch {
    entries = null;
  }
  if (!entries) {
    try {
      entries = parseLdconfigOutput(childProcess().execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      entries = [];
    }
  }
  entries = entries.filter((e) => (e.flags & 0xffff) === X86_64_LIBC6);
  cached = { key, entries };
  return entries;
}
