// Where an ELF's bytes come from. Most binaries are read whole, once; very
// large ones (a 100 MB `node`) are read a section at a time, because
// symbolising a stack needs only the symbol tables, never the code.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length), clipped to the end of the data. */
  read(offset: number, length: number): Buffer;
}

export class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get size(): number {
    return this.buf.length;
  }
  read(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, Math.min(this.buf.length, offset + length));
  }
}

/**
 * Reads ranges on demand. The descriptor is not kept open between reads (a
 * process symbolising many libraries would run out of them), so each read
 * checks that the path still names the file first opened.
 */
class RangeSource implements ByteSource {
  constructor(
    private readonly path: string,
    readonly size: number,
    private readonly ino: number,
    private readonly mtimeMs: number,
  ) {}
  read(offset: number, length: number): Buffer {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const out = Buffer.alloc(len);
    const fd = openSync(this.path, 'r');
    try {
      const st = fstatSync(fd);
      if (st.ino !== this.ino || st.mtimeMs !== this.mtimeMs) {
        throw new Error(`${this.path} changed while its symbols were being read`);
      }
      let done = 0;
      while (done < len) {
        const n = readSync(fd, out, done, len - done, offset + done);
        if (n <= 0) break;
        done += n;
      }
      return done === len ? out : out.subarray(0, done);
    } finally {
      closeSync(fd);
    }
  }
}

const WHOLE_FILE_LIMIT = 48 * 1024 * 1024;

export function fileSource(path: string, size: number, ino: number, mtimeMs: number): ByteSource {
  if (size <= WHOLE_FILE_LIMIT) return new BufferSource(readFileSync(path));
  return new RangeSource(path, size, ino, mtimeMs);
}

/** A u64 field as a JS number; exact below 2^53, which covers every user-space address. */
export function u64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x1_0000_0000;
}

/** The NUL-terminated string at `off`. */
export function cstr(buf: Buffer, off: number): string {
  let end = buf.indexOf(0, off);
  if (end < 0) end = buf.length;
  return buf.toString('utf8', off, end);
}
