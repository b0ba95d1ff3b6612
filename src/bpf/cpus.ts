// CPU sets as the kernel reports them. Per-CPU map values are laid out for
// every *possible* CPU (hot-pluggable ones included), while perf events can
// only be opened on *online* ones; confusing the two corrupts per-CPU reads.
import { readFileSync } from 'node:fs';
import { decimal } from '../chars.js';

/** Parses the kernel's cpulist format ("0-3,5,8-9"). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b, ...more] = part.trim().split('-');
    const lo = decimal(a);
    const hi = b === undefined ? lo : decimal(b);
    if (lo === undefined || hi === undefined || more.length) throw new Error(`bad cpu list entry '${part}' in '${text.trim()}'`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

let possible: number[] | undefined;
let online: number[] | undefined;

export function possibleCpus(): number[] {
  return (possible ??= parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8')));
}

export function onlineCpus(): number[] {
  return (online ??= parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8')));
}

/** How many value slots a per-CPU map lookup returns (the kernel's num_possible_cpus()). */
export function numPossibleCpus(): number {
  return possibleCpus().length;
}

let pageBytes: number | undefined;

/** The MMU page size, from the auxiliary vector (AT_PAGESZ); ring mappings are sized in pages. */
export function pageSize(): number {
  if (pageBytes !== undefined) return pageBytes;
  pageBytes = 4096;
  // x86-64 pages are 4 KiB by the architecture; arm64 kernels pick 4, 16 or 64.
  if (process.arch === 'x64') return pageBytes;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      const type = auxv.readBigUInt64LE(i);
      if (type === 0n) break;
      if (type === 6n) {
        pageBytes = Number(auxv.readBigUInt64LE(i + 8));
        break;
      }
    }
  } catch {
    // Without /proc the x86/arm64 default of 4 KiB stands.
  }
  return pageBytes;
}
