// ELF note records, and the one kind tracing cares about beyond the build id:
// SystemTap SDT probes (`.note.stapsdt`), which is how USDT probes are stored.
import { cstr, u64 } from './bytes.js';

export interface Note {
  name: string;
  type: number;
  desc: Buffer;
}

/** Splits a note section into records; `align` is 4 for most notes, 8 for `.note.gnu.property`. */
export function parseNotes(data: Buffer, align: 4 | 8 = 4): Note[] {
  const out: Note[] = [];
  const up = (n: number) => (n + align - 1) & ~(align - 1);
  let o = 0;
  while (o + 12 <= data.length) {
    const namesz = data.readUInt32LE(o);
    const descsz = data.readUInt32LE(o + 4);
    const type = data.readUInt32LE(o + 8);
    const nameOff = o + 12;
    const descOff = nameOff + up(namesz);
    if (descOff + descsz > data.length) break;
    const name = namesz > 0 ? data.toString('latin1', nameOff, nameOff + namesz).replace(/\0+$/, '') : '';
    out.push({ name, type, desc: data.subarray(descOff, descOff + descsz) });
    o = descOff + up(descsz);
  }
  return out;
}

export interface UsdtNote {
  provider: string;
  name: string;
  /** Virtual address of the probe's nop, corrected for `.stapsdt.base`. */
  pc: number;
  /** `.stapsdt.base` address recorded in the note. */
  base: number;
  /** Virtual address of the semaphore (a u16 the tracer increments), 0 when the probe has none. */
  semaphore: number;
  /** Argument specs as written by the compiler, e.g. `-4@%edi 8@%rax`. */
  args: string;
  /** File offset of `pc` (what the uprobe PMU attaches to); null if no segment maps it. */
  pcOffset: number | null;
  /** File offset of the semaphore (the uprobe PMU's ref_ctr_offset); null without one. */
  semaphoreOffset: number | null;
}

/**
 * Decodes one stapsdt note descriptor: three addresses (pc, base,
 * semaphore) then provider, name and argument strings, NUL-terminated.
 * `baseNow` is the current address of `.stapsdt.base`, or null when the
 * file has no such section (then no correction applies).
 */
export function usdtNoteFrom(desc: Buffer, baseNow: number | null): UsdtNote | null {
  if (desc.length < 24 + 3) return null;
  const pc = u64(desc, 0);
  const base = u64(desc, 8);
  const semaphore = u64(desc, 16);
  const provider = cstr(desc, 24);
  const nameOff = 24 + Buffer.byteLength(provider) + 1;
  if (nameOff >= desc.length) return null;
  const name = cstr(desc, nameOff);
  const argsOff = nameOff + Buffer.byteLength(name) + 1;
  const args = argsOff < desc.length ? cstr(desc, argsOff) : '';
  const bias = baseNow !== null && base !== 0 ? baseNow - base : 0;
  return { provider, name, pc: pc + bias, base, semaphore, args, pcOffset: null, semaphoreOffset: null };
}
