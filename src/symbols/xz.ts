// Just enough of the .xz container and the LZMA2 codec to read
// `.gnu_debugdata` (Fedora-style MiniDebugInfo: a small ELF holding the
// function symbols a distribution stripped). Node's zlib has no xz, and these
// sections are small, so a straightforward in-memory decoder is enough.
import { zlib } from '../lazy.js';

export class XzError extends Error {
  constructor(message: string) {
    super(`xz: ${message}`);
    this.name = 'XzError';
  }
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const FILTER_LZMA2 = 0x21;

/** Decompresses a whole .xz stream (LZMA2 filter only). */
export function xzDecompress(input: Buffer): Buffer {
  if (input.length < 12 || input.readUIntBE(0, 6) !== 0xfd377a585a00) throw new XzError('bad stream header');
  if (input[6] !== 0) throw new XzError('unsupported stream flags');
  const check = input[7] & 0xf;
  const chunks: Buffer[] = [];
  let pos = 12;
  for (;;) {
    if (pos >= input.length) throw new XzError('truncated stream');
    const hsize = input[pos];
    if (hsize === 0) break; // the index follows: every block is done
    const headerEnd = pos + (hsize + 1) * 4;
    if (headerEnd > input.length) throw new XzError('truncated block header');
    if (zlib().crc32(input.subarray(pos, headerEnd - 4)) >>> 0 !== input.readUInt32LE(headerEnd - 4)) {
      throw new XzError('block header CRC mismatch');
    }
    const flags = input[pos + 1];
    let p = pos + 2;
    const vli = (): number => {
      let v = 0;
      for (let i = 0, mul = 1; i < 9; i++, mul *= 128) {
        const b = input[p++];
        v += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) return v;
      }
      throw new XzError('bad integer');
    };
    if (flags & 0x40) vli();
    if (flags & 0x80) vli();
    const nfilters = (flags & 3) + 1;
    let dictProps = -1;
    for (let i = 0; i < nfilters; i++) {
      const id = vli();
      const psize = vli();
      if (id !== FILTER_LZMA2 || psize !== 1 || i !== nfilters - 1) {
        throw new XzError(`unsupported filter 0x${id.toString(16)}`);
      }
      dictProps = input[p];
      p += psize;
    }
    if (dictProps > 40) throw new XzError('bad dictionary size');
    const { out, end } = lzma2Decode(input, headerEnd);
    chunks.push(out);
    pos = end;
    while ((pos - headerEnd) % 4 !== 0) pos++;
    const cs = CHECK_SIZES[check];
    if (check === 1 && input.readUInt32LE(pos) !== zlib().crc32(out) >>> 0) throw new XzError('CRC32 mismatch');
    pos += cs;
  }
  return Buffer.concat(chunks);
}

/** The LZMA model's adaptive probabilities and match state; survives across LZMA2 chunks. */
class Lzma {
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  reps = [0, 0, 0, 0];
  isMatch = new Uint16Array(192);
  isRep = new Uint16Array(12);
  isRepG0 = new Uint16Array(12);
  isRepG1 = new Uint16Array(12);
  isRepG2 = new Uint16Array(12);
  isRep0Long = new Uint16Array(192);
  posSlot = new Uint16Array(4 * 64);
  posSpecial = new Uint16Array(115);
  align = new Uint16Array(16);
  lenProbs = new Uint16Array(2 + 16 * 8 * 2 + 256);
  repLenProbs = new Uint16Array(2 + 16 * 8 * 2 + 256);
  literal = new Uint16Array(0x300);

  setProps(d: number): void {
    if (d >= 9 * 5 * 5) throw new XzError('bad LZMA properties');
    this.lc = d % 9;
    d = Math.floor(d / 9);
    this.lp = d % 5;
    this.pb = Math.floor(d / 5);
    if (this.lc + this.lp > 4) throw new XzError('bad LZMA2 properties');
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  reset(): void {
    this.state = 0;
    this.reps = [0, 0, 0, 0];
    for (const a of [this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long,
      this.posSlot, this.posSpecial, this.align, this.lenProbs, this.repLenProbs, this.literal]) a.fill(1024);
  }
}

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {
    if (buf[pos] !== 0) throw new XzError('bad range coder start');
    for (let i = 1; i < 5; i++) this.code = this.code * 256 + buf[pos + i];
    this.pos = pos + 5;
  }

  private norm(): void {
    if (this.range < 0x1000000) {
      this.range *= 256;
      this.code = this.code * 256 + (this.buf[this.pos++] ?? 0);
    }
  }

  bit(p: Uint16Array, i: number): number {
    const bound = (this.range >>> 11) * p[i];
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      p[i] += (2048 - p[i]) >>> 5;
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      p[i] -= p[i] >>> 5;
      b = 1;
    }
    this.norm();
    return b;
  }

  direct(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = v * 2 + b;
      this.norm();
    }
    return v;
  }

  tree(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = m * 2 + this.bit(p, base + m);
    return m - (1 << bits);
  }

  reverseTree(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(p, base + m);
      m = m * 2 + b;
      v |= b << i;
    }
    return v;
  }
}

function decodeLen(rc: RangeDecoder, p: Uint16Array, posState: number): number {
  // Layout: [choice, choice2, low 16x8, mid 16x8, high 256]
  if (rc.bit(p, 0) === 0) return rc.tree(p, 2 + posState * 8, 3);
  if (rc.bit(p, 1) === 0) return 8 + rc.tree(p, 2 + 128 + posState * 8, 3);
  return 16 + rc.tree(p, 2 + 256, 8);
}

/** Output buffer that grows; also the LZMA dictionary, since we keep everything. */
class Out {
  buf = Buffer.alloc(1 << 16);
  len = 0;
  /** Start of the current dictionary (matches may not reach before it). */
  dictStart = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.alloc(size);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
}

function lzmaChunk(rc: RangeDecoder, m: Lzma, out: Out, unpacked: number): void {
  const end = out.len + unpacked;
  out.ensure(unpacked);
  const buf = out.buf;
  const pbMask = (1 << m.pb) - 1;
  const lpMask = (1 << m.lp) - 1;
  while (out.len < end) {
    const pos = out.len;
    // Positions count from the last dictionary reset.
    const rel = pos - out.dictStart;
    const posState = rel & pbMask;
    const s = m.state;
    if (rc.bit(m.isMatch, (s << 4) + posState) === 0) {
      const prev = pos > out.dictStart ? buf[pos - 1] : 0;
      const base = 0x300 * (((rel & lpMask) << m.lc) + (prev >>> (8 - m.lc)));
      let sym = 1;
      if (s >= 7) {
        let matchByte = buf[pos - m.reps[0] - 1];
        while (sym < 0x100) {
          const mb = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const b = rc.bit(m.literal, base + ((1 + mb) << 8) + sym);
          sym = (sym << 1) | b;
          if (mb !== b) break;
        }
      }
      while (sym < 0x100) sym = (sym << 1) | rc.bit(m.literal, base + sym);
      buf[out.len++] = sym & 0xff;
      m.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
      continue;
    }
    let len: number;
    if (rc.bit(m.isRep, s) === 1) {
      if (pos === out.dictStart) throw new XzError('repeat match before any data');
      if (rc.bit(m.isRepG0, s) === 0) {
        if (rc.bit(m.isRep0Long, (s << 4) + posState) === 0) {
          m.state = s < 7 ? 9 : 11;
          buf[out.len] = buf[out.len - m.reps[0] - 1];
          out.len++;
          continue;
        }
      } else {
        let d: number;
        if (rc.bit(m.isRepG1, s) === 0) d = m.reps[1];
        else {
          if (rc.bit(m.isRepG2, s) === 0) d = m.reps[2];
          else {
            d = m.reps[3];
            m.reps[3] = m.reps[2];
          }
          m.reps[2] = m.reps[1];
        }
        m.reps[1] = m.reps[0];
        m.reps[0] = d;
      }
      len = decodeLen(rc, m.repLenProbs, posState);
      m.state = s < 7 ? 8 : 11;
    } else {
      m.reps[3] = m.reps[2];
      m.reps[2] = m.reps[1];
      m.reps[1] = m.reps[0];
      len = decodeLen(rc, m.lenProbs, posState);
      m.state = s < 7 ? 7 : 10;
      const slot = rc.tree(m.posSlot, (len < 3 ? len : 3) * 64, 6);
      let dist: number;
      if (slot < 4) dist = slot;
      else {
        const nbits = (slot >>> 1) - 1;
        dist = (2 | (slot & 1)) * 2 ** nbits;
        if (slot < 14) dist += rc.reverseTree(m.posSpecial, dist - slot, nbits);
        else dist += rc.direct(nbits - 4) * 16 + rc.reverseTree(m.align, 0, 4);
      }
      m.reps[0] = dist;
    }
    len += 2;
    const from = out.len - m.reps[0] - 1;
    if (from < out.dictStart) throw new XzError('match distance beyond the dictionary');
    if (out.len + len > end) throw new XzError('match past the end of the chunk');
    for (let i = 0; i < len; i++) buf[out.len + i] = buf[from + i];
    out.len += len;
  }
}

function lzma2Decode(input: Buffer, start: number): { out: Buffer; end: number } {
  const out = new Out();
  const m = new Lzma();
  let pos = start;
  let haveProps = false;
  for (;;) {
    const c = input[pos++];
    if (c === undefined) throw new XzError('truncated LZMA2 data');
    if (c === 0) break;
    if (c === 1 || c === 2) {
      if (c === 1) out.dictStart = out.len;
      const n = input.readUInt16BE(pos) + 1;
      pos += 2;
      out.ensure(n);
      input.copy(out.buf, out.len, pos, pos + n);
      out.len += n;
      pos += n;
      continue;
    }
    if (c < 0x80) throw new XzError(`bad LZMA2 control byte 0x${c.toString(16)}`);
    const unpacked = (c & 0x1f) * 65536 + input.readUInt16BE(pos) + 1;
    const packed = input.readUInt16BE(pos + 2) + 1;
    pos += 4;
    const reset = (c >>> 5) & 3;
    if (reset === 3) out.dictStart = out.len;
    if (reset >= 2) {
      m.setProps(input[pos++]);
      haveProps = true;
    }
    if (!haveProps) throw new XzError('LZMA chunk without properties');
    if (reset >= 1) m.reset();
    const rc = new RangeDecoder(input.subarray(0, pos + packed), pos);
    lzmaChunk(rc, m, out, unpacked);
    pos += packed;
  }
  return { out: out.buf.subarray(0, out.len), end: pos };
}
